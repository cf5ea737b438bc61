import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { PgStore, openStore, type Store } from '../../src/store/index.js';
import { storeContract } from './store.contract.js';

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
      expect(results.map((r) => r.applied.length).sort()).toEqual([0, 0, 1]);
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
});
