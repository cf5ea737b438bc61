// A full day as a new user, through the built CLI only: an embedded server started, used and
// stopped by `noetl`, plus the failures a user meets first (second start, taken port, stale PID
// file, unreachable server, unknown execution id): one line each, a documented exit code.
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasStack, noetl } from '../helpers/cli.js';
import { alive, errLines, json, killLeftovers, recordedPids, show, tempHome } from '../helpers/cli-home.js';
import { freePort } from '../helpers/nats-server.js';

const HELLO = fileURLToPath(new URL('./fixtures/hello_world.yaml', import.meta.url));
const HELLO_PATH = 'fixtures/playbooks/hello_world';

let home: string;
let port: number;
let env: Record<string, string | undefined>;
const run = (args: string[], timeoutMs = 60_000) => noetl(args, { env, timeoutMs });

/** One `error[CODE]: ...` line, at most a hint line, no stack trace. */
function expectOneLineError(r: Awaited<ReturnType<typeof noetl>>, code: string, exit: number): string {
  expect(r.code, show(r)).toBe(exit);
  expect(hasStack(r.stderr), show(r)).toBe(false);
  const lines = errLines(r);
  expect(lines[0], show(r)).toMatch(new RegExp(`^error\\[${code}\\]: `));
  expect(
    lines.slice(1).every((l) => l.startsWith('  hint: ')),
    show(r),
  ).toBe(true);
  expect(lines.length, show(r)).toBeLessThanOrEqual(2);
  return lines[0] ?? '';
}

beforeAll(async () => {
  home = tempHome();
  port = await freePort();
  env = {
    NOETL_HOME: home,
    NOETL_PORT: String(port),
    NOETL_HOST: '127.0.0.1',
    NOETL_SERVER_URL: undefined,
    NOETL_DATABASE_URL: undefined,
    POSTGRES_HOST: undefined,
    NATS_URL: undefined,
    NOETL_LOG_LEVEL: 'warn',
  };
});

afterAll(() => {
  const pids = recordedPids(home);
  killLeftovers(home);
  for (const pid of pids) expect(alive(pid)).toBe(false);
});

describe('a full day with an embedded server', () => {
  let executionId = '';

  it('starts the server, removing a stale PID file first', { timeout: 180_000 }, async () => {
    writeFileSync(join(home, 'noetl_server.pid'), '999999\n');
    const r = await run(['server', 'start', '--json'], 170_000);
    expect(r.code, show(r)).toBe(0);
    expect(r.stderr).toMatch(/removed a stale PID file/);
    const started = json<{ status: string; pid: number; url: string }>(r);
    expect(started).toMatchObject({ status: 'running', url: `http://127.0.0.1:${port}` });
    expect(alive(started.pid)).toBe(true);
    expect(recordedPids(home)).toEqual([started.pid]);

    const status = await run(['server', 'status', '--json']);
    expect(status.code, show(status)).toBe(0);
    expect(json(status)).toMatchObject({ running: true, pid: started.pid, health: { status: 'ok' } });
  });

  it('refuses a second start: already running, exit 5', async () => {
    const r = await run(['server', 'start']);
    expect(expectOneLineError(r, 'CONFLICT', 5)).toMatch(/already running \(pid \d+\)/);
  });

  it('registers a playbook and executes it with --wait', { timeout: 90_000 }, async () => {
    const reg = await run(['register', 'playbook', '-f', HELLO]);
    expect(reg.code, show(reg)).toBe(0);
    expect(reg.stdout).toMatch(`registered ${HELLO_PATH} version 1`);

    const list = await run(['catalog', 'list', 'Playbook', '--json']);
    expect(json<{ path: string }[]>(list).map((e) => e.path)).toContain(HELLO_PATH);

    const exec = await run(
      ['execute', 'playbook', HELLO_PATH, '--set', 'message=hi', '--wait', '--json'],
      80_000,
    );
    expect(exec.code, show(exec)).toBe(0);
    const outcome = json<{ execution_id: string; status: string; final_result: unknown }>(exec);
    expect(outcome.status).toBe('COMPLETED');
    expect(outcome.execution_id).toMatch(/^\d+$/);
    expect(outcome.final_result).toEqual({ status: 'complete' });
    executionId = outcome.execution_id;

    // human form: step lines on stderr, the outcome on stdout
    const human = await run(['execute', 'playbook', HELLO_PATH, '--wait'], 80_000);
    expect(human.code, show(human)).toBe(0);
    expect(human.stdout).toMatch(/^COMPLETED fixtures\/playbooks\/hello_world in [\d.]+s \(3 steps\)/);
    expect(human.stderr).toMatch(/✓ start {2}\d/);
    expect(human.stderr).toMatch(/✓ test_step/);
    expect(human.stderr).toMatch(/✓ end/);
  });

  it(
    'shows a failed step as `noetl run` does: failing line and last output',
    { timeout: 90_000 },
    async () => {
      const file = join(home, 'boom.yaml');
      writeFileSync(
        file,
        [
          'apiVersion: noetl.io/v2',
          'kind: Playbook',
          'metadata: {name: boom, path: cli/boom}',
          'workflow:',
          '  - step: start',
          '    tool: {kind: noop}',
          '    next: [{step: boom}]',
          '  - step: boom',
          '    tool:',
          '      kind: python',
          '      code: |',
          '        print("working")',
          '        raise ValueError("nope")',
          '',
        ].join('\n'),
      );
      expect((await run(['register', 'playbook', '-f', file])).code).toBe(0);
      const human = await run(['execute', 'playbook', 'cli/boom', '--wait'], 80_000);
      expect(human.code, show(human)).toBe(1);
      expect(hasStack(human.stderr), show(human)).toBe(false);
      expect(human.stderr).toMatch(/✗ boom .*ValueError: nope/);
      expect(human.stderr).toMatch(/^FAILED cli\/boom in [\d.]+s \(2 steps\)/m);
      expect(human.stderr).toMatch(/^error\[STEP_FAILED\]: step 'boom' failed: ValueError: nope$/m);
      expect(human.stderr).toContain('  failing line 2 of its code:\n    raise ValueError("nope")');
      expect(human.stderr).toContain('    out | working');
      expect(human.stderr).toContain('    err | ValueError: nope');
      expect(human.stderr).toMatch(/hint: `noetl logs \d+` shows what its steps printed/);

      const scripted = await run(['execute', 'playbook', 'cli/boom', '--wait', '--json'], 80_000);
      expect(scripted.code, show(scripted)).toBe(1);
      const outcome = json<{ status: string; failures: { step: string; code_line: { line: number } }[] }>(
        scripted,
      );
      expect(outcome.status).toBe('FAILED');
      expect(outcome.failures.map((f) => [f.step, f.code_line.line])).toEqual([['boom', 2]]);
    },
  );

  it('lists executions, newest first, filtered by status and path', async () => {
    const failed = await run(['executions', '--status', 'failed', '--json']);
    expect(failed.code, show(failed)).toBe(0);
    const rows = json<{ execution_id: string; status: string; path: string }[]>(failed);
    expect(rows.length).toBe(2);
    expect(rows.every((r) => r.status === 'FAILED' && r.path === 'cli/boom')).toBe(true);
    expect(BigInt(rows[0]?.execution_id ?? 0)).toBeGreaterThan(BigInt(rows[1]?.execution_id ?? 0));

    const human = await run(['executions', '--path', 'fixtures/', '-n', '1']);
    expect(human.code, show(human)).toBe(0);
    const lines = human.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^EXECUTION_ID +STATUS +STARTED +TOOK +PATH/);
    expect(lines.slice(1)).toHaveLength(1);
    expect(lines[1]).toMatch(/^\d+ +COMPLETED .* fixtures\/playbooks\/hello_world/);

    const none = await run(['executions', '--path', 'no/such/']);
    expect(none.stdout.trim()).toBe('no executions with path no/such/*');
    expectOneLineError(await run(['executions', '--status', 'done']), 'USAGE', 2);
    expectOneLineError(await run(['executions', '--limit', '0']), 'USAGE', 2);
  });

  it('shows status and events of the execution', async () => {
    const status = await run(['status', executionId, '--json']);
    expect(status.code, show(status)).toBe(0);
    expect(json(status)).toMatchObject({ execution_id: executionId, status: 'COMPLETED' });
    const human = await run(['status', executionId]);
    expect(human.stdout).toMatch(new RegExp(`execution ${executionId} {2}COMPLETED`));
    expect(human.stdout).toMatch(/steps +3\/3 completed/);

    const events = await run(['events', executionId, '--json']);
    expect(events.code, show(events)).toBe(0);
    const types = events.stdout
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { event_type: string }).event_type);
    expect(types[0]).toBe('playbook_started');
    expect(types).toContain('command.completed');
    expect(types[types.length - 1]).toBe('playbook.completed');

    const followed = await run(['events', executionId, '--follow']);
    expect(followed.code, show(followed)).toBe(0);
    expect(followed.stdout).toMatch(/^TIME +EVENT +STEP +STATUS/);
    expect(followed.stdout).toMatch(/playbook\.completed +playbook +COMPLETED/);
    expect(followed.stdout).toMatch(`execution ${executionId} COMPLETED`);
  });

  it('registers a credential and reads it back', async () => {
    const file = join(home, 'pg_local.json');
    writeFileSync(
      file,
      JSON.stringify({ name: 'pg_local', type: 'postgres', data: { user: 'u', password: 's3cret' } }),
    );
    const reg = await run(['register', 'credential', '-f', file]);
    expect(reg.code, show(reg)).toBe(0);
    expect(reg.stdout).toMatch('registered credential pg_local (postgres)');
    expect(reg.stdout).not.toMatch('s3cret');

    const hidden = await run(['get', 'credential', 'pg_local', '--json']);
    expect(hidden.code, show(hidden)).toBe(0);
    expect(json(hidden)).toMatchObject({ name: 'pg_local', type: 'postgres' });
    expect(json(hidden)['data']).toBeUndefined();

    const shown = await run(['get', 'credential', 'pg_local', '--include-data', '--json']);
    expect(json(shown)['data']).toEqual({ user: 'u', password: 's3cret' });

    const missing = await run(['get', 'credential', 'nope']);
    expectOneLineError(missing, 'NOT_FOUND', 4);
  });

  it('queries the database', async () => {
    const r = await run(['query', 'select 1 as one, 2 as two', '--json']);
    expect(r.code, show(r)).toBe(0);
    expect(json<{ result: unknown[] }>(r).result).toEqual([{ one: 1, two: 2 }]);
    const table = await run(['query', 'select 1 as one, 2 as two']);
    expect(table.stdout).toBe('ONE  TWO\n1    2\n(1 row)\n');
    const valid = await run(['db', 'validate']);
    expect(valid.code, show(valid)).toBe(0);
  });

  it('says an unknown execution id is not found: exit 4', async () => {
    const r = await run(['status', '123456789']);
    expect(expectOneLineError(r, 'NOT_FOUND', 4)).toMatch(/execution 123456789 not found/);
    expectOneLineError(await run(['events', '123456789']), 'NOT_FOUND', 4);
    expectOneLineError(await run(['status', 'not-an-id']), 'USAGE', 2);
  });

  it('stops the server and leaves nothing running', { timeout: 30_000 }, async () => {
    const pids = recordedPids(home);
    const r = await run(['server', 'stop']);
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout).toMatch(/server stopped \(pid \d+\)/);
    expect(recordedPids(home)).toEqual([]);
    for (const pid of pids) expect(alive(pid)).toBe(false);

    const again = await run(['server', 'stop']);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch('server is not running');
    const status = await run(['server', 'status']);
    expect(status.code).toBe(3);
  });
});

describe('failures before a server runs', () => {
  let holder: Server;
  let takenPort: number;

  beforeAll(async () => {
    takenPort = await freePort();
    holder = createServer();
    await new Promise<void>((resolve) => holder.listen(takenPort, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => holder.close(() => resolve()));
  });

  it('refuses a taken port, naming it: exit 5', async () => {
    const r = await noetl(['server', 'start', '--port', String(takenPort)], { env });
    expect(expectOneLineError(r, 'CONFLICT', 5)).toMatch(`port ${takenPort} is already in use`);
    expect(recordedPids(home)).toEqual([]);
  });

  it('says an unreachable server is unavailable: exit 3', async () => {
    const closed = await freePort();
    const url = `http://127.0.0.1:${closed}`;
    const r = await noetl(['status', '1', '--server-url', url], { env });
    expect(expectOneLineError(r, 'UNAVAILABLE', 3)).toMatch(`cannot reach the server at ${url}`);
    const viaEnv = await noetl(['catalog', 'list'], { env: { ...env, NOETL_SERVER_URL: url } });
    expectOneLineError(viaEnv, 'UNAVAILABLE', 3);
    // a command's own --version is not the program's
    const get = await noetl(['catalog', 'get', 'x', '--version', '2', '--server-url', url], { env });
    expectOneLineError(get, 'UNAVAILABLE', 3);
  });
});
