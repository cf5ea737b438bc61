import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasStack, noetl } from '../helpers/cli.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};
let dir: string;

const write = (name: string, text: string): string => {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
};

afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'noetl-cli-'));
  write(
    'ok.yaml',
    `apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: ok }
workload: { who: world, n: 1 }
workflow:
  - step: start
    tool: { kind: noop, result: { hello: "{{ who }}", n: "{{ n + 1 }}" } }
    next: [ second ]
  - step: second
    tool: { kind: shell, cmds: ["echo {{ start.hello }}"] }
`,
  );
  write(
    'fails.yaml',
    `apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: fails }
workflow:
  - step: start
    tool: { kind: python, code: "raise ValueError('nope')" }
`,
  );
  write(
    'template-error.yaml',
    `apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: tpl }
workflow:
  - step: start
    tool: { kind: noop, x: "{{ a | nosuchfilter }}" }
`,
  );
  write(
    'multi.yaml',
    `apiVersion: noetl.io/v1
kind: Playbook
metadata: { name: multi }
workflow:
  - step: begin
    tool: { kind: pythn }
    next: [ nowhere ]
  - step: begin
    loop: { iterator: x }
    tool: { kind: noop, x: "{{ a " }
`,
  );
  write('syntax.yaml', 'apiVersion: noetl.io/v2\nkind: Playbook\nmetadata: {name: x\nworkflow: []\n');
});

describe('noetl (local commands)', () => {
  it('prints its version and help', async () => {
    const v = await noetl(['--version']);
    expect(v.code).toBe(0);
    expect(v.stdout.trim()).toBe(pkg.version);
    const help = await noetl(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: noetl/);
    expect(help.stdout).toMatch(/run \[options\] \[file\] \[target\]/);
    // the pre-built help (bin fast path) is the live command tree's help
    const live = await noetl(['help']);
    expect(live.stdout.trim()).toBe(help.stdout.trim());
  });

  it('runs a playbook and prints the outcome as JSON', async () => {
    const r = await noetl(['run', 'ok.yaml', '--set', 'who=Ada', '--json'], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(out).toMatchObject({
      status: 'COMPLETED',
      playbook_name: 'ok',
      executed_steps: ['start', 'second'],
      step_results: { start: { hello: 'Ada', n: 2 }, second: { stdout: 'Ada\n', exit_code: 0 } },
      error: null,
    });
    for (const key of [
      'execution_id',
      'playbook_path',
      'started_at',
      'completed_at',
      'duration_seconds',
      'final_result',
    ]) {
      expect(out).toHaveProperty(key);
    }
    const log = join(dir, '.noetl', 'runs', `${String(out['execution_id'])}.jsonl`);
    const types = readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { event_type: string }).event_type);
    expect(types[0]).toBe('playbook_started');
    expect(types.at(-1)).toBe('playbook.completed');
  });

  it('starts at a target step and merges --input, --payload and --set', async () => {
    const input = write('input.json', JSON.stringify({ who: 'file', n: 10 }));
    const r = await noetl(['run', 'ok.yaml', 'start', '--input', input, '--payload', '{"n": 20}', '--json'], {
      cwd: dir,
    });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ step_results: { start: { hello: 'file', n: 21 } } });
  });

  it('finds ./noetl.yaml and treats a bare word as the target', async () => {
    const sub = mkdtempSync(join(dir, 'default-'));
    writeFileSync(join(sub, 'noetl.yaml'), readFileSync(join(dir, 'ok.yaml')));
    const r = await noetl(['run', 'second', '--json'], { cwd: sub });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ executed_steps: ['second'] });
    expect(readdirSync(join(sub, '.noetl', 'runs'))).toHaveLength(1);
  });

  it('exits 1 with one line and a code when a step fails', async () => {
    const r = await noetl(['run', 'fails.yaml'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error\[TOOL_FAILED\]: step 'start' failed: ValueError: nope$/m);
    expect(hasStack(r.stderr)).toBe(false);
    const t = await noetl(['run', 'template-error.yaml'], { cwd: dir });
    expect(t.code).toBe(1);
    expect(t.stderr).toMatch(/error\[TEMPLATE_RENDER\]: .*unknown filter/);
  });

  it('rejects bad input with exit 2, a code and no stack trace', async () => {
    const cases: [string[], RegExp][] = [
      [['run', 'missing.yaml'], /^error\[FILE_NOT_FOUND\]: playbook file not found: .*missing\.yaml$/m],
      [['run', 'syntax.yaml'], /^error\[YAML_SYNTAX\]: .*syntax\.yaml:\d+:\d+: /m],
      [['run', 'multi.yaml'], /^error\[PLAYBOOK_INVALID\]: .*multi\.yaml:1:1: API_VERSION .*and \d+ more/m],
      [['run', 'ok.yaml', '--set', 'novalue'], /^error\[USAGE\]: --set expects key=value/m],
      [['run', 'ok.yaml', '--payload', '{bad'], /^error\[USAGE\]: --payload is not valid JSON/m],
      [['run', 'ok.yaml', 'nosuchstep'], /^error\[USAGE\]: target step 'nosuchstep' is not defined/m],
      [['run', 'ok.yaml', '--bogus'], /^error\[USAGE\]: unknown option '--bogus'/m],
      [['frobnicate'], /^error\[USAGE\]: unknown command 'frobnicate'/m],
      [['run'], /^error\[FILE_NOT_FOUND\]: no playbook given/m],
    ];
    for (const [args, pattern] of cases) {
      const r = await noetl(args, { cwd: dir });
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stderr).toMatch(pattern);
      expect(hasStack(r.stderr)).toBe(false);
    }
  });

  it('validate reports every problem with code and line:col', async () => {
    const text = await noetl(['validate', 'multi.yaml'], { cwd: dir });
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/multi\.yaml:1:1: error API_VERSION/);
    expect(text.stdout).toMatch(/multi\.yaml:6:\d+: error UNKNOWN_TOOL_KIND/);
    const r = await noetl(['validate', 'multi.yaml', '--json'], { cwd: dir });
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout) as {
      valid: boolean;
      diagnostics: { code: string; line: number; column: number }[];
    };
    expect(out.valid).toBe(false);
    const codes = out.diagnostics.map((d) => d.code);
    for (const code of [
      'API_VERSION',
      'NO_START_STEP',
      'UNKNOWN_TOOL_KIND',
      'UNDEFINED_STEP',
      'DUPLICATE_STEP',
      'LOOP_INVALID',
      'TEMPLATE_SYNTAX',
    ]) {
      expect(codes).toContain(code);
    }
    for (const d of out.diagnostics) {
      expect(d.line).toBeGreaterThan(0);
      expect(d.column).toBeGreaterThan(0);
    }
    const good = await noetl(['validate', 'ok.yaml', '--json'], { cwd: dir });
    expect(good.code).toBe(0);
    expect(JSON.parse(good.stdout)).toMatchObject({ valid: true });
  });

  it('validate and run refuse a playbook over a size limit with PLAYBOOK_TOO_LARGE', async () => {
    // Over the default 16 MiB: refused before it is parsed.
    write('huge.yaml', `apiVersion: noetl.io/v2\nkind: Playbook\n# ${'x'.repeat(16 * 1024 * 1024)}\n`);
    const v = await noetl(['validate', 'huge.yaml'], { cwd: dir });
    expect(v.code).toBe(1);
    expect(v.stdout).toMatch(/huge\.yaml:1:1: error PLAYBOOK_TOO_LARGE: .*NOETL_PLAYBOOK_MAX_BYTES/);
    const run = await noetl(['run', 'huge.yaml'], { cwd: dir });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('PLAYBOOK_TOO_LARGE');
    expect(hasStack(run.stderr)).toBe(false);
    // The limits come from the environment: ok.yaml's second step (line 9) is one too many.
    const env = { NOETL_PLAYBOOK_MAX_STEPS: '1' };
    const steps = await noetl(['validate', 'ok.yaml', '--json'], { cwd: dir, env });
    expect(steps.code).toBe(1);
    expect(JSON.parse(steps.stdout)).toMatchObject({
      valid: false,
      diagnostics: [{ code: 'PLAYBOOK_TOO_LARGE', line: 9, column: 5, path: 'workflow[1]' }],
    });
    const runSteps = await noetl(['run', 'ok.yaml'], { cwd: dir, env });
    expect(runSteps.code).toBe(2);
    expect(runSteps.stderr).toMatch(/ok\.yaml:9:5: PLAYBOOK_TOO_LARGE/);
    const bad = await noetl(['validate', 'ok.yaml'], { cwd: dir, env: { NOETL_PLAYBOOK_MAX_DEPTH: 'deep' } });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('NOETL_PLAYBOOK_MAX_DEPTH');
  });

  it('prints a JSON Schema', async () => {
    const r = await noetl(['schema']);
    expect(r.code).toBe(0);
    const schema = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(schema['$schema']).toMatch(/json-schema/);
    expect(JSON.stringify(schema)).toContain('workflow');
  });
});
