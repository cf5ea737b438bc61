/**
 * Issue 11 item 3: a cursor loop drained by two worker processes. The claims and the rows are
 * commands any worker may take; the claim statement's FOR UPDATE SKIP LOCKED keeps two claims
 * from ever returning the same row. Checks, in the table itself: every row claimed once, handled
 * once, none left; and in the log: both workers ran claims.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, waitFor, type Cluster } from '../helpers/cluster.js';
import { natsServerAvailable } from '../helpers/nats-server.js';
import { pgTarget, withPg } from '../helpers/pg-scratch.js';
import { CI } from './fault-support.js';

const suite = natsServerAvailable() || CI ? describe : describe.skip;

const ROWS = 200;

function playbook(table: string): string {
  return `apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: cursor_drain, path: tests/cursor/drain }
workload: { db: pg_cursor }
workflow:
  - step: start
    tool: { kind: noop }
    next: [ drain ]
  - step: drain
    loop:
      iterator: job
      cursor:
        kind: postgres
        auth: "{{ db }}"
        claim: |
          UPDATE ${table} SET status = 'claimed', claims = claims + 1
          WHERE id IN (
            SELECT id FROM ${table} WHERE status = 'pending'
            ORDER BY id FOR UPDATE SKIP LOCKED LIMIT {{ __frame_max_rows }}
          )
          RETURNING id
      spec:
        mode: cursor
        max_in_flight: 6
        frame: { max_rows: 4, row_concurrency: 2 }
    tool:
      kind: postgres
      auth: "{{ db }}"
      command: |
        UPDATE ${table} SET status = 'done', handled = handled + 1 WHERE id = {{ iter.job.id }}
    next:
      - step: end
        when: "{{ event.name == 'loop.done' }}"
  - step: end
    tool: { kind: noop }
`;
}

suite('a cursor loop drained by two workers', () => {
  let cluster: Cluster;
  let table = '';

  beforeAll(async () => {
    // Both workers stay up here: a worker starved for the clusters' usual 3 s on a loaded CI host
    // would be taken for offline and its claimed rows handed out again (at least once, by
    // design), which is not what this test is about.
    cluster = await startCluster({ servers: 1, workers: 2, env: { NOETL_RUNTIME_OFFLINE_SECONDS: '20' } });
    table = `${cluster.schema}.cursor_jobs`;
    await withPg(async (c) => {
      await c.query(
        `CREATE TABLE ${table} (id int PRIMARY KEY, status text NOT NULL DEFAULT 'pending',
           claims int NOT NULL DEFAULT 0, handled int NOT NULL DEFAULT 0)`,
      );
      await c.query(`INSERT INTO ${table} (id) SELECT g FROM generate_series(1, ${ROWS}) g`);
    });
    const t = pgTarget();
    await cluster.api(0, 'POST', '/api/credentials', {
      name: 'pg_cursor',
      type: 'postgres',
      data: {
        db_host: t.host,
        db_port: t.port,
        db_user: t.user,
        db_password: t.password,
        db_name: t.database,
      },
    });
    await cluster.register(playbook(table));
  }, 120_000);

  afterAll(async () => {
    await cluster?.dispose(); // drops the schema, the table with it
  }, 60_000);

  it(`drains ${ROWS} rows: each claimed once and handled once, by both workers`, async () => {
    try {
      const id = await cluster.execute('tests/cursor/drain');
      const status = await waitFor(
        async () => {
          const s = await cluster.status(id);
          return s === 'RUNNING' ? undefined : s;
        },
        'the execution to finish',
        120_000,
        { intervalMs: 200 },
      );
      expect(status).toBe('COMPLETED');

      const counts = await withPg(async (c) => {
        const r = await c.query<{ total: number; claimed_once: number; handled_once: number; done: number }>(
          `SELECT count(*)::int AS total,
                  count(*) FILTER (WHERE claims = 1)::int AS claimed_once,
                  count(*) FILTER (WHERE handled = 1)::int AS handled_once,
                  count(*) FILTER (WHERE status = 'done')::int AS done
           FROM ${table}`,
        );
        return r.rows[0];
      });
      expect(counts).toEqual({ total: ROWS, claimed_once: ROWS, handled_once: ROWS, done: ROWS });

      const events = await cluster.events(id);
      const issued = events.filter((e) => e.event_type === 'command.issued' && e.node_name === 'drain');
      const claimIds = new Set(
        issued.map((e) => e.meta?.command_id ?? '').filter((cid) => cid.endsWith(':claim')),
      );
      // one body command per row, and claims besides
      expect(issued.length - claimIds.size).toBe(ROWS);
      const claimWorkers = new Set(
        events
          .filter((e) => e.event_type === 'command.claimed' && claimIds.has(e.meta?.command_id ?? ''))
          .map((e) => e.meta?.worker_id ?? e.worker_id),
      );
      expect(claimWorkers.size).toBe(2);
      const result = await cluster.api<{ step_results: Record<string, unknown> }>(
        0,
        'GET',
        `/api/executions/${id}/result`,
      );
      expect(result.step_results['drain']).toHaveLength(ROWS);
    } catch (err) {
      console.error(`${cluster.logs()}\n${await cluster.diagnose()}`);
      throw err;
    }
  }, 180_000);
});
