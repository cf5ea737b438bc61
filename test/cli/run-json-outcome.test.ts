/**
 * `noetl run --json` prints its outcome object for a failure before the first step too, and a
 * workload value no step reads never fails a run (issue 11 item 8).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noetl } from '../helpers/cli.js';

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'noetl-cli-json-'));
  writeFileSync(
    join(dir, 'lazy.yaml'),
    `apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: lazy }
workload:
  created: "{{ now() }}"
  broken: "{{ no_such_function() }}"
workflow:
  - step: start
    tool: { kind: noop, result: { created: "{{ workload.created }}" } }
`,
  );
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('noetl run --json', () => {
  it('prints the outcome object when the run fails before its first step', async () => {
    const cases: [string[], string, number][] = [
      [['run', 'lazy.yaml', '--json', '--payload', '{bad'], 'USAGE', 2],
      [['run', 'lazy.yaml', 'nosuchstep', '--json'], 'USAGE', 2],
      [['run', 'missing.yaml', '--json'], 'FILE_NOT_FOUND', 2],
    ];
    for (const [args, code, exit] of cases) {
      const r = await noetl(args, { cwd: dir });
      expect({ args, exit: r.code }).toEqual({ args, exit });
      const outcome = JSON.parse(r.stdout) as Record<string, unknown>;
      expect(outcome).toMatchObject({ status: 'FAILED', error_code: code, executed_steps: [] });
      expect(String(outcome['error'])).not.toBe('');
      expect(r.stderr).toContain(`error[${code}]`);
    }
  });

  it('warns that ducklake cannot run here before anything runs (validate and run)', async () => {
    writeFileSync(
      join(dir, 'lake.yaml'),
      `apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: lake }
workflow:
  - step: start
    tool: { kind: ducklake, command: "select 1" }
`,
    );
    const v = await noetl(['validate', 'lake.yaml'], { cwd: dir });
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(
      /lake\.yaml:6:\d+: warning TOOL_UNAVAILABLE: tool kind 'ducklake' is not available here/,
    );
    const r = await noetl(['run', 'lake.yaml', '--json'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('TOOL_UNAVAILABLE');
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'FAILED', error_code: 'TOOL_UNSUPPORTED' });
  });

  it('runs a playbook whose unread workload value cannot render', async () => {
    const r = await noetl(['run', 'lazy.yaml', '--json'], { cwd: dir });
    expect(r.code).toBe(0);
    const outcome = JSON.parse(r.stdout) as {
      status: string;
      started_at: string;
      step_results: Record<string, unknown>;
    };
    expect(outcome.status).toBe('COMPLETED');
    expect(outcome.step_results['start']).toEqual({ created: outcome.started_at });
  });
});
