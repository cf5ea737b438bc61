import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasStack, noetl } from '../helpers/cli.js';

let dir: string;

afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'noetl-output-'));
  writeFileSync(
    join(dir, 'boom.yaml'),
    `apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: boom_demo }
workflow:
  - step: start
    tool: { kind: shell, command: "echo preparing; echo careful >&2" }
    next: [ boom ]
  - step: boom
    tool:
      kind: python
      code: |
        print("loading rows")
        rows = [1, 2, 3]
        total = sum(rows) + missing_value
        result = {"total": total}
`,
  );
  writeFileSync(
    join(dir, 'secret.yaml'),
    `apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: secret_print }
workload: { api_token: tok-SECRET-9911 }
keychain:
  - name: service
    kind: bearer
    token: "{{ workload.api_token }}"
workflow:
  - step: start
    tool: { kind: shell, command: "echo token={{ keychain.service.token }}; echo {{ keychain.service.token }} >&2; exit 3" }
`,
  );
  writeFileSync(
    join(dir, 'quiet.yaml'),
    `apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: quiet }
workflow:
  - step: start
    tool: { kind: python, code: "result = 1" }
`,
  );
});

describe('noetl run: step output', () => {
  it('shows a failed step’s traceback and its failing code line (file line:col) without a flag', async () => {
    const r = await noetl(['run', 'boom.yaml'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error\[TOOL_FAILED\]: step 'boom' failed: NameError: name 'missing_value'/m);
    expect(r.stderr).toContain(
      '  failing line 3 of its code (boom.yaml:14:9):\n    total = sum(rows) + missing_value\n',
    );
    expect(r.stderr).toContain(
      "  last output of 'boom':\n    out | loading rows\n    err | Traceback (most recent call last):",
    );
    expect(r.stderr).toContain("    err | NameError: name 'missing_value' is not defined");
    expect(r.stderr).not.toContain('@@__NOETL_RESULT__@@');
    expect(hasStack(r.stderr)).toBe(false);
  });

  it('-v streams every step’s output prefixed by the step name', async () => {
    const r = await noetl(['run', 'boom.yaml', '-v'], { cwd: dir });
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('['));
    // stdout and stderr are two pipes: their lines interleave in either order within a step, but
    // the steps run one after the other
    expect(new Set(lines.slice(0, 2))).toEqual(new Set(['[start] | preparing', '[start] ! careful']));
    expect(new Set(lines.slice(2, 4))).toEqual(
      new Set(['[boom] | loading rows', '[boom] ! Traceback (most recent call last):']),
    );
    expect(lines).toContain("[boom] ! NameError: name 'missing_value' is not defined");
  });

  it('--json carries each step’s output and the failure; the event log keeps the lines', async () => {
    const r = await noetl(['run', 'boom.yaml', '--json'], { cwd: dir });
    const outcome = JSON.parse(r.stdout) as {
      execution_id: string;
      output: Record<string, Array<{ ts: string; stream: string; text: string }>>;
      failures: Array<{ step: string; code_line: { line: number; file_position: string } }>;
    };
    // two pipes: the order between stdout and stderr lines is not fixed
    expect(outcome.output['start']?.map((l) => `${l.stream}:${l.text}`).sort()).toEqual([
      'stderr:careful',
      'stdout:preparing',
    ]);
    const loading = outcome.output['boom']?.find((l) => l.stream === 'stdout');
    expect(loading).toMatchObject({ stream: 'stdout', text: 'loading rows' });
    expect(loading?.ts).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/);
    expect(outcome.failures[0]).toMatchObject({
      step: 'boom',
      code_line: { line: 3, file_position: '14:9' },
    });
    const log = readFileSync(join(dir, '.noetl', 'runs', `${outcome.execution_id}.jsonl`), 'utf8');
    const errorEvent = log.split('\n').find((l) => l.includes('"call.error"')) ?? '';
    expect(errorEvent).toContain('"text":"loading rows"');
  });

  it('redacts credential values from the printed, JSON and logged output', async () => {
    const v = await noetl(['run', 'secret.yaml', '-v'], { cwd: dir });
    expect(v.stderr).toContain('[start] | token=***');
    expect(v.stderr).toContain('[start] ! ***');
    expect(v.stderr).toContain('    out | token=***');
    expect(v.stderr).not.toContain('tok-SECRET-9911');
    const j = await noetl(['run', 'secret.yaml', '--json'], { cwd: dir });
    expect(j.stdout).toContain('token=***');
    expect(j.stdout).not.toContain('tok-SECRET-9911');
    const id = (JSON.parse(j.stdout) as { execution_id: string }).execution_id;
    const log = readFileSync(join(dir, '.noetl', 'runs', `${id}.jsonl`), 'utf8');
    const errorEvent = log.split('\n').find((l) => l.includes('"call.error"')) ?? '';
    expect(errorEvent).toContain('token=***');
    expect(errorEvent).not.toContain('tok-SECRET-9911');
  });

  it('keeps the tail of a step’s output within NOETL_STEP_OUTPUT_MAX_BYTES', async () => {
    writeFileSync(
      join(dir, 'chatty.yaml'),
      `apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: chatty }
workflow:
  - step: start
    tool:
      kind: python
      code: |
        for i in range(300):
            print(f"line {i:03d} " + "x" * 30)
        result = 1
`,
    );
    type Outcome = { output: Record<string, Array<{ text: string }>> };
    const all = await noetl(['run', 'chatty.yaml', '--json'], { cwd: dir });
    const full = (JSON.parse(all.stdout) as Outcome).output['start']!.map((l) => l.text);
    expect(full[0]).toMatch(/^line 000 /); // 12 kB fits the default 64 KiB
    const cut = await noetl(['run', 'chatty.yaml', '--json'], {
      cwd: dir,
      env: { NOETL_STEP_OUTPUT_MAX_BYTES: '2048' },
    });
    const kept = (JSON.parse(cut.stdout) as Outcome).output['start']!.map((l) => l.text);
    expect(kept.at(-1)).toMatch(/^line 299 /); // the tail is kept
    expect(kept.some((t) => t.startsWith('line 000 '))).toBe(false);
    expect(kept.join('\n').length).toBeLessThanOrEqual(2048);
    const bad = await noetl(['run', 'chatty.yaml'], {
      cwd: dir,
      env: { NOETL_STEP_OUTPUT_MAX_BYTES: 'lots' },
    });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('NOETL_STEP_OUTPUT_MAX_BYTES');
  });

  it('a step that prints nothing adds no output', async () => {
    const r = await noetl(['run', 'quiet.yaml', '--json'], { cwd: dir });
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'COMPLETED', output: {} });
    expect(r.stdout).not.toContain('"lines"');
  });
});
