/**
 * Batch execute on both stores (issue 15): a batch is written in a few statements whatever its
 * size (statements counted on the driver seam, BEGIN and COMMIT included), its items stay
 * independent, and an idempotency key starts one execution, within a batch and across batches.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import { MemoryBus } from '../../src/bus/index.js';
import { Orchestrator, type BatchOutcome } from '../../src/server/orchestrator/orchestrator.js';
import { silentLogger, SnowflakeIdGenerator, systemClock } from '../../src/shared/index.js';
import { SqlStore, type Db, type DbResult, type DbRow, type RootDb } from '../../src/store/index.js';
import { PgPoolDb } from '../../src/store/pg/pg-db.js';
import { PgliteRootDb } from '../../src/store/pglite/pglite-db.js';
import { templates } from '../../src/template/index.js';
import { TEST_DATABASE_URL } from '../helpers/server-app.js';

/** Counts the statements sent to the database: each query or exec, and BEGIN + COMMIT per transaction. */
class CountingDb implements RootDb {
  statements = 0;

  constructor(private readonly inner: RootDb) {}

  private wrap(db: Db): Db {
    return {
      query: <R extends DbRow = DbRow>(text: string, params?: readonly unknown[]): Promise<DbResult<R>> => {
        this.statements++;
        return db.query<R>(text, params);
      },
      exec: (text: string) => {
        this.statements++;
        return db.exec(text);
      },
      tx: <T>(fn: (db: Db) => Promise<T>) => fn(this.wrap(db)),
    };
  }

  query<R extends DbRow = DbRow>(text: string, params?: readonly unknown[]): Promise<DbResult<R>> {
    this.statements++;
    return this.inner.query<R>(text, params);
  }

  exec(text: string): Promise<DbResult[]> {
    this.statements++;
    return this.inner.exec(text);
  }

  tx<T>(fn: (db: Db) => Promise<T>): Promise<T> {
    this.statements += 2;
    return this.inner.tx((db) => fn(this.wrap(db)));
  }

  nameStatements(texts: Iterable<string>): void {
    this.inner.nameStatements?.(texts);
  }

  stats() {
    return this.inner.stats();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

interface Backend {
  readonly db: CountingDb;
  readonly store: SqlStore;
  dispose(): Promise<void>;
}

async function pgBackend(): Promise<Backend> {
  const schema = `noetl_batch_${randomBytes(5).toString('hex')}`;
  const pool = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 4 });
  const db = new CountingDb(new PgPoolDb(pool, silentLogger, 4));
  const store = new SqlStore(db, 'pg', { schema });
  await store.migrate();
  return {
    db,
    store,
    dispose: async () => {
      await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await store.close();
    },
  };
}

async function pgliteBackend(): Promise<Backend> {
  const lite = await PGlite.create({ parsers: { 20: (value: string) => value } });
  const db = new CountingDb(new PgliteRootDb(lite, () => undefined));
  const store = new SqlStore(db, 'pglite');
  await store.migrate();
  return { db, store, dispose: () => store.close() };
}

const PLAYBOOK = (path: string): string => `apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: batch, path: ${path} }
workload: { n: 0 }
workflow:
  - step: start
    tool: { kind: noop, args: { n: "{{ workload.n }}" } }
`;

const started = (o: BatchOutcome): string => {
  if ('error' in o) throw new Error(`refused: ${String(o.error)}`);
  return o.execution_id;
};

describe.each([
  ['postgres', pgBackend],
  ['pglite', pgliteBackend],
] as const)('executeBatch on %s', (_name, open) => {
  let b: Backend;
  let orchestrator: Orchestrator;
  const path = `tests/batch/${randomBytes(3).toString('hex')}`;

  beforeAll(async () => {
    b = await open();
    orchestrator = new Orchestrator({
      store: b.store,
      bus: new MemoryBus(),
      ids: new SnowflakeIdGenerator(systemClock),
      clock: systemClock,
      templates: templates(),
      logger: silentLogger,
      serverUrl: 'http://127.0.0.1:0',
    });
    await b.store.catalog.register({ path, kind: 'Playbook', content: PLAYBOOK(path) });
  }, 60_000);

  afterAll(async () => {
    await orchestrator?.flushPublished();
    await b?.dispose();
  });

  /** Statements one batch of `n` items costs, with a key each (so the keys are locked and looked up). */
  async function cost(n: number, tag: string): Promise<{ statements: number; outcomes: BatchOutcome[] }> {
    await orchestrator.flushPublished();
    const reqs = Array.from({ length: n }, (_, i) => ({
      path,
      payload: { n: i },
      dedupKey: `${tag}-${i}`,
    }));
    const before = b.db.statements;
    const outcomes = await orchestrator.executeBatch(reqs);
    return { statements: b.db.statements - before, outcomes };
  }

  it('writes a batch in a few statements whatever its size', async () => {
    await cost(1, 'warm'); // the playbook is read and parsed once, then cached
    const one = await cost(1, 'one');
    const hundred = await cost(100, 'hundred');
    expect(hundred.outcomes.filter((o) => !('error' in o) && o.status === 'started')).toHaveLength(100);
    expect(hundred.statements).toBe(one.statements);
    expect(hundred.statements).toBeLessThanOrEqual(6);
    const ids = hundred.outcomes.map(started);
    expect(new Set(ids).size).toBe(100);
    const rows = await b.store.executions.list({ path, limit: 500 });
    expect(rows.filter((r) => ids.includes(r.executionId))).toHaveLength(100);
    const e = await b.store.executions.get(ids[42]!);
    expect((e?.workload as Record<string, unknown>)['n']).toBe(42);
    expect(await b.store.commands.listByExecution(ids[42]!)).toHaveLength(1);
  });

  it('keeps items independent: a refused one starts nothing and undoes nothing', async () => {
    const outcomes = await orchestrator.executeBatch([
      { path, payload: { n: 1 } },
      { path: `${path}/missing`, payload: { n: 2 } },
      { path, payload: { n: 3 }, executionPool: 'batch-pool' },
    ]);
    expect('error' in outcomes[1]!).toBe(true);
    expect(String((outcomes[1] as { error: Error }).error.message)).toContain(`${path}/missing`);
    for (const i of [0, 2]) {
      const id = started(outcomes[i]!);
      const e = await b.store.executions.get(id);
      expect(e?.status).toBe('RUNNING');
      expect((e?.workload as Record<string, unknown>)['n']).toBe(i + 1);
    }
  });

  it('starts one execution per key, within a batch and across batches', async () => {
    const key = `dup-${randomBytes(4).toString('hex')}`;
    const first = await orchestrator.executeBatch([
      { path, payload: { n: 1 }, dedupKey: key },
      { path, payload: { n: 2 }, dedupKey: key },
      { path, payload: { n: 3 } },
    ]);
    const id = started(first[0]!);
    expect(first[0]).toMatchObject({ status: 'started' });
    expect(first[1]).toEqual({ execution_id: id, status: 'duplicate', commands_generated: 0 });
    const again = await orchestrator.executeBatch([{ path, payload: { n: 4 }, dedupKey: key }]);
    expect(again[0]).toEqual({ execution_id: id, status: 'duplicate', commands_generated: 0 });
    const single = await orchestrator.execute({ path, payload: { n: 5 }, dedupKey: key });
    expect(single).toMatchObject({ execution_id: id, status: 'duplicate' });
    const { rows } = await b.store.query(
      `SELECT count(*)::int AS n FROM ${b.store.schema}.execution WHERE idempotency_key = $1`,
      [key],
    );
    expect(rows[0]!['n']).toBe(1);
  });

  it('lets concurrent batches with the same keys start each key once', async () => {
    const tag = randomBytes(4).toString('hex');
    const batch = () =>
      orchestrator.executeBatch(
        Array.from({ length: 20 }, (_, i) => ({ path, payload: { n: i }, dedupKey: `${tag}-${i}` })),
      );
    const results = await Promise.all([batch(), batch(), batch()]);
    for (let i = 0; i < 20; i++) {
      const ids = new Set(results.map((r) => started(r[i]!)));
      expect(ids.size).toBe(1);
    }
    expect(results.flat().filter((o) => !('error' in o) && o.status === 'started')).toHaveLength(20);
  });
});
