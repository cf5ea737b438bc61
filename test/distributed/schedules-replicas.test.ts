/**
 * A schedule firing every second for 20 s on two control-plane replicas over one PostgreSQL,
 * one of them killed (SIGKILL) and restarted halfway: every tick in the window starts exactly one
 * execution (docs/triggers.md: the fire's idempotency key is taken in the execute transaction).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { natsServerAvailable } from '../helpers/nats-server.js';
import { startCluster, waitFor, type Cluster } from '../helpers/cluster.js';
import { withPg } from '../helpers/pg-scratch.js';
import { CI } from './fault-support.js';

const suite = natsServerAvailable() || CI ? describe : describe.skip;

const PLAYBOOK = `apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: every_second, path: tests/schedules/every_second }
workflow:
  - step: start
    tool: { kind: noop }
`;

interface Fire {
  fire_time: string;
  execution_id: string | null;
  outcome: string;
}

suite('a schedule on two replicas', () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await startCluster({ servers: 2, workers: 1 });
    await cluster.register(PLAYBOOK);
  }, 120_000);

  afterAll(async () => {
    await cluster?.dispose();
  }, 60_000);

  it('fires each tick once for 20 s, through a SIGKILL of one replica', async () => {
    const created = await cluster.api<{ schedule_id: string }>(0, 'POST', '/api/schedules', {
      path: 'tests/schedules/every_second',
      cron: '* * * * * *',
      catchup: 'all',
      catchup_limit: 30,
    });
    const id = created.schedule_id;
    const fires = async (): Promise<Fire[]> =>
      (await cluster.api<{ items: Fire[] }>(0, 'GET', `/api/schedules/${id}/fires?limit=1000`)).items;
    try {
      await waitFor(async () => ((await fires()).length >= 8 ? true : undefined), '8 fires', 30_000);
      await cluster.servers[1]!.restart('SIGKILL');
      await waitFor(async () => ((await fires()).length >= 20 ? true : undefined), '20 fires', 60_000);
      await cluster.api(1, 'POST', `/api/schedules/${id}/pause`, {});
      const all = await fires();
      const started = all.filter((f) => f.outcome === 'started');
      // one execution per tick, and no tick between the first and the last is missing
      const times = started.map((f) => Date.parse(f.fire_time)).sort((a, b) => a - b);
      expect(new Set(times).size).toBe(times.length);
      for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBe(1000);
      expect(times.length).toBeGreaterThanOrEqual(20);
      // in the database: one execution per tick key, however many replicas tried
      const dup = await withPg(async (c) => {
        const r = await c.query(
          `SELECT idempotency_key, count(*)::int AS n FROM ${cluster.schema}.execution
           WHERE idempotency_key LIKE $1 GROUP BY 1 HAVING count(*) > 1`,
          [`schedule:${id}:%`],
        );
        return r.rows as { idempotency_key: string; n: number }[];
      });
      expect(dup).toEqual([]);
      const executions = await withPg(async (c) => {
        const r = await c.query(
          `SELECT count(*)::int AS n FROM ${cluster.schema}.execution WHERE idempotency_key LIKE $1`,
          [`schedule:${id}:%`],
        );
        return (r.rows[0] as { n: number }).n;
      });
      expect(executions).toBe(started.length);
      for (const f of started.slice(0, 3)) {
        await waitFor(
          async () => ((await cluster.status(f.execution_id!)) === 'COMPLETED' ? true : undefined),
          `execution ${f.execution_id} completed`,
          30_000,
        );
      }
    } catch (err) {
      console.error(JSON.stringify((await fires()).filter((f) => f.outcome !== 'started')));
      console.error(cluster.logs());
      throw err;
    }
  }, 150_000);
});
