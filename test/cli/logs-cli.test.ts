// `noetl logs`: what steps printed, from a local run's log and from an embedded server.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noetl } from '../helpers/cli.js';
import { json, killLeftovers, show, tempHome } from '../helpers/cli-home.js';
import { freePort } from '../helpers/nats-server.js';

const PLAYBOOK = `apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: printer, path: tests/logs/printer }
workflow:
  - step: start
    tool: { kind: shell, command: "echo first line; echo warn line >&2" }
    next: [ second ]
  - step: second
    tool: { kind: python, code: "print('from python')\\nresult = 1" }
    next: [ each ]
  - step: each
    loop: { in: "{{ [1, 2, 3] }}", iterator: n }
    tool: { kind: noop }
`;

let dir: string;
let home: string;
let env: Record<string, string | undefined>;
const run = (args: string[], timeoutMs = 60_000) => noetl(args, { env, cwd: dir, timeoutMs });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'noetl-logs-'));
  writeFileSync(join(dir, 'printer.yaml'), PLAYBOOK);
  home = tempHome();
  env = {
    NOETL_HOME: home,
    NOETL_PORT: String(await freePort()),
    NOETL_HOST: '127.0.0.1',
    NOETL_SERVER_URL: undefined,
    NOETL_DATABASE_URL: undefined,
    POSTGRES_HOST: undefined,
    NATS_URL: undefined,
    NOETL_LOG_LEVEL: 'warn',
  };
});

afterAll(() => {
  killLeftovers(home);
  rmSync(dir, { recursive: true, force: true });
});

const EXPECTED = ['[start] | first line', '[start] ! warn line', '[second] | from python'];

describe('noetl logs', () => {
  it('prints a local run’s step output from .noetl/runs, --step filters, --json is NDJSON', async () => {
    const r = await run(['run', 'printer.yaml', '--json']);
    expect(r.code, show(r)).toBe(0);
    const id = json<{ execution_id: string }>(r).execution_id;
    const logs = await run(['logs', id]);
    expect(logs.code, show(logs)).toBe(0);
    expect(logs.stdout.trim().split('\n')).toEqual(EXPECTED);
    const one = await run(['logs', id, '--step', 'second', '--json']);
    const lines = one.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, string>);
    expect(lines).toEqual([
      { step: 'second', ts: expect.any(String) as string, stream: 'stdout', text: 'from python' },
    ]);
  });

  it('names a loop iteration’s lines step[i] (NDJSON: iteration)', async () => {
    writeFileSync(
      join(dir, 'loop.yaml'),
      `apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: loop_print }
workflow:
  - step: start
    loop: { in: "{{ [1, 2] }}", iterator: n, spec: { mode: sequential } }
    tool: { kind: shell, command: "echo item {{ n }}" }
`,
    );
    const v = await run(['run', 'loop.yaml', '-v']);
    const shown = v.stderr.split('\n').filter((l) => l.startsWith('['));
    expect(shown).toEqual(['[start[0]] | item 1', '[start[1]] | item 2']);
    const r = await run(['run', 'loop.yaml', '--json']);
    const id = json<{ execution_id: string }>(r).execution_id;
    expect((await run(['logs', id])).stdout).toBe('[start[0]] | item 1\n[start[1]] | item 2\n');
    const nd = (await run(['logs', id, '--json'])).stdout.trim().split('\n');
    expect(JSON.parse(nd[1] ?? '{}')).toMatchObject({ step: 'start', iteration: 1, text: 'item 2' });
  });

  it(
    'prints an execution’s step output from the server, and --follow ends with it',
    { timeout: 240_000 },
    async () => {
      const start = await run(['server', 'start', '--json'], 170_000);
      expect(start.code, show(start)).toBe(0);
      try {
        expect((await run(['register', 'playbook', '-f', join(dir, 'printer.yaml')])).code).toBe(0);
        const exec = await run(['execute', 'playbook', 'tests/logs/printer', '--wait', '--json'], 80_000);
        expect(exec.code, show(exec)).toBe(0);
        const id = json<{ execution_id: string }>(exec).execution_id;
        // Not the local log: the server's events (no .noetl/runs/<id>.jsonl for this id).
        const logs = await run(['logs', id]);
        expect(logs.code, show(logs)).toBe(0);
        expect(logs.stdout.trim().split('\n')).toEqual(EXPECTED);
        const status = await run(['status', id]);
        expect(status.stdout, show(status)).toMatch(/^ {2}step tree$/m);
        expect(status.stdout).toMatch(/^ {4}✓ start +COMPLETED +\d/m);
        expect(status.stdout).toMatch(/^ {4}✓ second +COMPLETED/m);
        expect(status.stdout).toMatch(/^ {4}✓ each +COMPLETED +\S+ {2}\[3\/3\]$/m);
        const statusJson = json<{ steps: Array<Record<string, unknown>> }>(
          await run(['status', id, '--json']),
        );
        expect(statusJson.steps.map((r) => r['step'])).toEqual(['start', 'second', 'each']);
        expect(statusJson.steps[0]).toMatchObject({ status: 'COMPLETED', attempts: 1 });
        expect(statusJson.steps[2]).toMatchObject({ loop: { done: 3, failed: 0, total: 3 } });
        const followed = await run(['logs', id, '--follow', '--step', 'start']);
        expect(followed.code, show(followed)).toBe(0);
        expect(followed.stdout.trim().split('\n')).toEqual(EXPECTED.slice(0, 2));
      } finally {
        await run(['server', 'stop']);
      }
    },
  );
});
