import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { EVENT_SQL } from '../../src/store/queries/events.js';
import { PgStore, loadMigrations, openStore, type Store } from '../../src/store/index.js';
import { storeContract } from './store.contract.js';
import { event, startExecution } from './store-fixtures.js';

/**
 * Runs against the PostgreSQL of the development and CI machines. An unreachable database
 * fails these tests: they are never skipped.
 */
const url = process.env['NOETL_TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const schemas: string[] = [];
const newSchema = (): string => {
  const s = `noetl_t_${randomBytes(5).toString('hex')}`;
  schemas.push(s);
  return s;
};

afterAll(async () => {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const s of schemas) await client.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
  } finally {
    await client.end();
  }
});

storeContract('postgres', async () => {
  const schema = newSchema();
  const store = await openStore({ databaseUrl: url, schema });
  const peer = await openStore({ databaseUrl: url, schema, migrate: false });
  return {
    store,
    peer,
    dispose: async () => {
      await peer.close();
      await store.close();
    },
  };
});

describe('postgres adapter', () => {
  it('migrates once when several replicas start together', async () => {
    const schema = newSchema();
    const stores: Store[] = await Promise.all(
      [1, 2, 3].map(() => PgStore.open({ connectionString: url, schema, max: 2 })),
    );
    try {
      const results = await Promise.all(stores.map((s) => s.migrate()));
      // one replica applies every migration, the others none
      const all = (await loadMigrations()).length;
      expect(results.map((r) => r.applied.length).sort((a, b) => a - b)).toEqual([0, 0, all]);
      expect((await stores[0]!.validate()).valid).toBe(true);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  it('survives its connections being terminated', async () => {
    const schema = newSchema();
    const app = `noetl-test-${schema}`;
    const store = await PgStore.open({ connectionString: url, schema, applicationName: app, max: 4 });
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      await store.migrate();
      await Promise.all([1, 2, 3, 4].map((i) => store.vars.set('1', [{ name: `v${i}`, value: i }])));
      const killed = await admin.query(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1',
        [app],
      );
      expect(killed.rowCount).toBeGreaterThan(0);
      expect((await store.vars.list('1')).length).toBe(4);
      await store.tx((tx) => tx.vars.set('1', [{ name: 'after', value: true }]));
      expect((await store.health()).ok).toBe(true);
    } finally {
      await admin.end();
      await store.close();
    }
  });

  it('pipelines an execution transaction on the expected head, and COMMIT with its last append', async () => {
    const schema = newSchema();
    const store = await openStore({ databaseUrl: url, schema });
    try {
      const s = await startExecution(store);
      // A stale count: the body runs at once on it (no wait for the head), is rolled back by
      // the head check in the database, and runs again on the head as read.
      const heads: (number | undefined)[] = [];
      await store.withExecutionLock(
        s.executionId,
        async (tx, head) => {
          heads.push(head?.eventCount);
          await tx.events.append({ events: [event(s.executionId, 'call.done')], last: true });
        },
        () => 2,
      );
      expect(heads).toEqual([2, 3]);
      expect(
        (await store.events.list(s.executionId)).filter((e) => e.eventType === 'call.done'),
      ).toHaveLength(1);
      // A body that ignores a repeated event in its last append still commits nothing: the
      // check sent with it turned COMMIT into ROLLBACK.
      await store.events.append({ events: [event(s.executionId, 'step.exit', { idempotencyKey: 'k' })] });
      const fresh = event(s.executionId, 'call.done');
      await expect(
        store.withExecutionLock(
          s.executionId,
          (tx) =>
            tx.events.append({
              events: [fresh, event(s.executionId, 'step.exit', { idempotencyKey: 'k' })],
              last: true,
            }),
          () => 5,
        ),
      ).rejects.toThrow(/ROLLBACK/);
      expect(await store.events.get(s.executionId, fresh.eventId)).toBeUndefined();
      expect((await store.executions.get(s.executionId))?.eventCount).toBe(5);
    } finally {
      await store.close();
    }
  });

  it('reports an unreachable database as a retryable error', async () => {
    const store = await PgStore.open({
      connectionString: 'postgres://postgres@127.0.0.1:1/none',
      connectionTimeoutMs: 2000,
    });
    try {
      await expect(store.migrate()).rejects.toMatchObject({ code: 'DB_ERROR', retryable: true });
      expect((await store.health()).ok).toBe(false);
    } finally {
      await store.close();
    }
  });
  it('appends without scanning the command table, however many commands it holds', async () => {
    // A batch is estimated at 100 rows (jsonb_array_elements), which once made the planner
    // hash-join it against sequential scans of the whole command table: an append's cost grew
    // with every command ever stored. Its reads of `command` must stay index lookups.
    const schema = newSchema();
    const store = await openStore({ databaseUrl: url, schema });
    await store.close();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(`
        INSERT INTO ${schema}.command (command_id, command_key, event_id, execution_id, step_name,
          tool_kind, status, latest_event_id)
        SELECT n, 'x:s:' || n, n, n / 10, 's', 'noop',
          (ARRAY['PENDING', 'COMPLETED', 'RUNNING'])[n % 3 + 1], n
        FROM generate_series(1, 20000) AS n`);
      await client.query(`ANALYZE ${schema}.command`);
      const ev = (id: number, type: string, extra: Record<string, unknown> = {}) => ({
        execution_id: '77',
        event_id: String(1_000_000 + id),
        event_type: type,
        node_name: 's',
        ...extra,
      });
      const events = [
        ev(1, 'command.started', { command_key: 'x:s:5', command_status: 'RUNNING' }),
        ev(2, 'command.completed', { command_key: 'x:s:5', command_status: 'COMPLETED' }),
        ev(3, 'playbook.failed', { execution_status: 'FAILED' }),
      ];
      const sql = EVENT_SQL.append.replaceAll('{{schema}}', schema);
      const plan = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`, [
        JSON.stringify(events),
        null,
        '[]',
      ]);
      const text = plan.rows.map((r) => r['QUERY PLAN']).join('\n');
      expect(text).toMatch(/Index (Only )?Scan using \w+ on command/);
      expect(text).not.toMatch(/Seq Scan on command/);
    } finally {
      await client.end();
    }
  });
});
