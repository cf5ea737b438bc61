// The same day against PostgreSQL and NATS JetStream: a distributed server and two workers,
// started and stopped by the CLI; a private schema and stream, dropped at the end. Under CI an
// unreachable PostgreSQL or NATS fails this file (never skipped).
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasStack, noetl } from '../helpers/cli.js';
import { alive, json, killLeftovers, recordedPids, show, tempHome } from '../helpers/cli-home.js';
import { freePort } from '../helpers/nats-server.js';
import { createSchema, dropSchema, PG_URL, withPg } from '../helpers/pg-scratch.js';

const NATS_URL = process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222';
const CI = process.env['CI'] === 'true' || process.env['CI'] === '1';
const HELLO = fileURLToPath(new URL('./fixtures/hello_world.yaml', import.meta.url));

async function natsReachable(): Promise<boolean> {
  try {
    const nc = await connect({ servers: NATS_URL, timeout: 2_000 });
    await nc.close();
    return true;
  } catch {
    return false;
  }
}

async function pgReachable(): Promise<boolean> {
  try {
    await withPg((c) => c.query('select 1'));
    return true;
  } catch {
    return false;
  }
}

const available = (await natsReachable()) && (await pgReachable());

if (!available && !CI) {
  describe.skip(`CLI against PostgreSQL + NATS (not reachable; under CI=true this fails)`, () => {
    it('needs PostgreSQL and NATS', () => undefined);
  });
} else {
  describe('a full day against PostgreSQL + NATS with two CLI-managed workers', { timeout: 60_000 }, () => {
    const ns = `cli_${randomBytes(4).toString('hex')}`;
    let home: string;
    let schema = '';
    let env: Record<string, string | undefined>;
    let metrics: { a: number; b: number };
    const run = (args: string[], extra: Record<string, string> = {}) =>
      noetl(args, { env: { ...env, ...extra }, timeoutMs: 60_000 });

    beforeAll(async () => {
      if (!available)
        throw new Error(`PostgreSQL (${PG_URL}) or NATS (${NATS_URL}) is not reachable (CI requires both)`);
      home = tempHome();
      schema = await createSchema('noetl_cli');
      metrics = { a: await freePort(), b: await freePort() };
      env = {
        NOETL_HOME: home,
        NOETL_HOST: '127.0.0.1',
        NOETL_PORT: String(await freePort()),
        NOETL_SERVER_URL: undefined,
        NOETL_DATABASE_URL: PG_URL,
        NOETL_SCHEMA: schema,
        NATS_URL,
        NATS_STREAM: `${ns}_cmd`,
        NATS_CONSUMER: `${ns}_wp`,
        NATS_SUBJECT: `${ns}.commands`,
        NOETL_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
        NOETL_LOG_LEVEL: 'warn',
        WORKER_METRICS_BIND: undefined,
        WORKER_ID: undefined,
      };
    });

    afterAll(async () => {
      if (!home) return;
      const pids = recordedPids(home);
      killLeftovers(home);
      if (schema) await dropSchema(schema);
      const nc = await connect({ servers: NATS_URL, timeout: 2_000 }).catch(() => undefined);
      if (nc) {
        const jsm = await jetstreamManager(nc);
        await jsm.streams.delete(`${ns}_cmd`).catch(() => false);
        await nc.close();
      }
      for (const pid of pids) expect(alive(pid)).toBe(false);
    });

    it('starts the distributed server and two workers', async () => {
      const server = await run(['server', 'start', '--json']);
      expect(server.code, show(server)).toBe(0);
      const health = await run(['server', 'status', '--json']);
      expect(json(health)).toMatchObject({ running: true, health: { status: 'ok', bus: { kind: 'nats' } } });

      const a = await run(['worker', 'start', '--name', 'a', '--json'], {
        WORKER_METRICS_BIND: `127.0.0.1:${metrics.a}`,
      });
      expect(a.code, show(a)).toBe(0);
      expect(json(a)).toMatchObject({ name: 'a', metrics_url: `http://127.0.0.1:${metrics.a}` });
      const b = await run(['worker', 'start', '--name', 'b', '--max-workers', '2'], {
        WORKER_METRICS_BIND: `127.0.0.1:${metrics.b}`,
      });
      expect(b.code, show(b)).toBe(0);
      expect(b.stdout).toMatch(/worker 'b' started \(pid \d+\)/);

      const again = await run(['worker', 'start', '--name', 'a'], {
        WORKER_METRICS_BIND: `127.0.0.1:${await freePort()}`,
      });
      expect(again.code, show(again)).toBe(5);
      expect(again.stderr).toMatch(/^error\[CONFLICT\]: worker 'a' already running \(pid \d+\)/);
      expect(hasStack(again.stderr)).toBe(false);

      const list = await run(['worker', 'list', '--json']);
      const workers = json<{ name: string; status: string; server_url: string }[]>(list);
      expect(workers.map((w) => [w.name, w.status])).toEqual([
        ['a', 'ok'],
        ['b', 'ok'],
      ]);
      expect(workers[0]?.server_url).toBe(`http://127.0.0.1:${env['NOETL_PORT']}`);
    });

    it('registers, executes on a worker, shows status and events', async () => {
      const reg = await run(['register', 'playbook', '-f', HELLO]);
      expect(reg.code, show(reg)).toBe(0);
      const exec = await run(['execute', 'playbook', 'fixtures/playbooks/hello_world', '--wait', '--json']);
      expect(exec.code, show(exec)).toBe(0);
      const outcome = json<{ execution_id: string; status: string }>(exec);
      expect(outcome.status).toBe('COMPLETED');

      const status = await run(['status', outcome.execution_id, '--json']);
      expect(json(status)).toMatchObject({ status: 'COMPLETED', progress: { completed_steps: 3 } });
      const events = await run(['events', outcome.execution_id, '--json']);
      const workerIds = new Set(
        events.stdout
          .trim()
          .split('\n')
          .map((l) => (JSON.parse(l) as { worker_id: string | null }).worker_id)
          .filter((w): w is string => typeof w === 'string'),
      );
      expect(workerIds.size).toBeGreaterThan(0);
      for (const id of workerIds) expect([`${hostname()}-a`, `${hostname()}-b`]).toContain(id);
    });

    it('stores a credential encrypted and reads it back; queries the database', async () => {
      const file = join(home, 'cred.yaml');
      writeFileSync(file, 'name: api_key\ntype: bearer\ndata:\n  token: t0ken\n');
      const ok = await run(['register', 'credential', '-f', file]);
      expect(ok.code, show(ok)).toBe(0);
      const back = await run(['get', 'credential', 'api_key', '--include-data', '--json']);
      expect(json(back)).toMatchObject({ name: 'api_key', type: 'bearer', data: { token: 't0ken' } });
      const rows = await run(['query', `select count(*)::int as n from ${schema}.credential`, '--json']);
      expect(json<{ result: { n: number }[] }>(rows).result[0]?.n).toBe(1);
      const stored = await run([
        'query',
        'select data_encrypted::text as d from credential',
        '--schema',
        schema,
        '--json',
      ]);
      expect(stored.stdout).not.toMatch('t0ken');
    });

    it('stops both workers and the server', async () => {
      const pids = recordedPids(home);
      expect(pids).toHaveLength(3);
      const many = await run(['worker', 'stop']);
      expect(many.code).toBe(2); // two are running: name one, or --all
      const a = await run(['worker', 'stop', '--name', 'a']);
      expect(a.code, show(a)).toBe(0);
      expect(a.stdout).toMatch(/worker 'a' stopped/);
      const b = await run(['worker', 'stop']);
      expect(b.code, show(b)).toBe(0);
      expect(b.stdout).toMatch(/worker 'b' stopped/);
      const server = await run(['server', 'stop']);
      expect(server.code, show(server)).toBe(0);
      expect(recordedPids(home)).toEqual([]);
      for (const pid of pids) expect(alive(pid)).toBe(false);
      const list = await run(['worker', 'list', '--json']);
      expect(json(list)).toEqual([]);
    });
  });
}
