import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noetl } from '../helpers/cli.js';

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'noetl-pycli-'));
  writeFileSync(
    join(dir, 'pids.yaml'),
    `apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: pids }
workflow:
  - step: start
    tool: { kind: python, code: "import os\\nSEEN = 'first'\\nos.environ['NOETL_LEAK'] = 'x'\\nresult = os.getpid()" }
    next: [ second ]
  - step: second
    tool:
      kind: python
      code: |
        import os
        result = {"first": start, "second": os.getpid(), "leak": os.environ.get("NOETL_LEAK"), "seen": "SEEN" in globals()}
      args: { start: "{{ start }}" }
`,
  );
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('noetl run: warm python interpreters', () => {
  it('runs python steps on one reset interpreter and exits at once, leaving no python behind', async () => {
    const started = Date.now();
    const r = await noetl(['run', 'pids.yaml', '--json'], { cwd: dir, timeoutMs: 30_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(Date.now() - started).toBeLessThan(20_000);
    const out = JSON.parse(r.stdout) as { final_result: Record<string, unknown> };
    const { first, second, leak, seen } = out.final_result;
    expect(second).toBe(Number(first));
    expect({ leak, seen }).toEqual({ leak: null, seen: false });
    expect(alive(second as number)).toBe(false);
  });

  it('NOETL_PYTHON_POOL=0 runs each python step in a process of its own', async () => {
    const r = await noetl(['run', 'pids.yaml', '--json'], {
      cwd: dir,
      env: { NOETL_PYTHON_POOL: '0' },
      timeoutMs: 30_000,
    });
    expect(r.code, r.stderr).toBe(0);
    const { first, second } = (JSON.parse(r.stdout) as { final_result: Record<string, unknown> })
      .final_result;
    expect(second).not.toBe(Number(first));
  });
});
