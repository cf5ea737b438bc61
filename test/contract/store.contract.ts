import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REQUIRED_TABLES } from '../../src/store/index.js';
import { commandContract } from './store-contract-commands.js';
import { eventContract } from './store-contract-events.js';
import { executionTxContract } from './store-contract-execution-tx.js';
import { freshAppendContract } from './store-contract-fresh.js';
import { registryContract } from './store-contract-registry.js';
import { ids, type StoreFactory, type StoreFixture } from './store-fixtures.js';

export type { StoreFactory, StoreFixture } from './store-fixtures.js';

/**
 * One behaviour suite for every store adapter (STYLE.md 4). The adapter's test file gives a
 * factory for a migrated store on an isolated schema or data directory.
 */
export function storeContract(name: string, makeStore: StoreFactory): void {
  describe(`store contract: ${name}`, () => {
    let fixture: StoreFixture | undefined;
    const get = (): StoreFixture => {
      if (!fixture) throw new Error('store fixture not opened');
      return fixture;
    };

    beforeAll(async () => {
      fixture = await makeStore();
    }, 120_000);

    afterAll(async () => {
      await fixture?.dispose();
    }, 60_000);

    describe('migrations and admin', () => {
      it('runs migrations idempotently', async () => {
        const { store } = get();
        expect((await store.migrate()).applied).toEqual([]);
        expect((await store.migrate()).applied).toEqual([]);
        const v = await store.validate();
        expect(v.valid).toBe(true);
        expect(v.missing).toEqual([]);
        expect(v.pendingMigrations).toEqual([]);
        for (const t of REQUIRED_TABLES) expect(v.tables).toContain(t);
      });

      it('reports a missing table', async () => {
        const { store } = get();
        const schema = store.stats().schema;
        await store.query(`ALTER TABLE ${schema}.schedule RENAME TO schedule_gone`);
        try {
          const v = await store.validate();
          expect(v.valid).toBe(false);
          expect(v.missing).toEqual(['schedule']);
        } finally {
          await store.query(`ALTER TABLE ${schema}.schedule_gone RENAME TO schedule`);
        }
        expect((await store.validate()).valid).toBe(true);
      });

      it('answers health and stats', async () => {
        const { store } = get();
        const h = await store.health();
        expect(h.ok).toBe(true);
        expect(h.latencyMs).toBeGreaterThanOrEqual(0);
        expect(['pg', 'pglite']).toContain(store.stats().kind);
      });

      it('runs raw SQL with parameters and several statements', async () => {
        const { store } = get();
        const one = await store.query('SELECT $1::bigint AS id, $2::text AS name', ['9007199254740993', 'x']);
        expect(one.rows).toEqual([{ id: '9007199254740993', name: 'x' }]);
        expect(one.fields).toEqual(['id', 'name']);
        const many = await store.query('SELECT 1 AS a; SELECT 2 AS b');
        expect(many.rows).toEqual([{ b: 2 }]);
        await expect(store.query('SELEC nonsense')).rejects.toMatchObject({ code: 'BAD_REQUEST' });
        await expect(store.query('SELECT 1/0')).rejects.toMatchObject({ code: 'BAD_REQUEST' });
      });

      it('serialises callers of one execution lock', async () => {
        const { store, peer } = get();
        const executionId = ids.next();
        await store.vars.set(executionId, [{ name: 'counter', value: 0 }]);
        const callers = 12;
        const bump = (s: typeof store) =>
          s.withExecutionLock(executionId, async (tx) => {
            const current = (
              await tx.query(
                `SELECT var_value FROM ${s.stats().schema}.transient WHERE execution_id = $1 AND var_name = 'counter'`,
                [executionId],
              )
            ).rows[0]?.['var_value'];
            await new Promise((r) => setTimeout(r, 2));
            await tx.vars.set(executionId, [{ name: 'counter', value: Number(current) + 1 }]);
          });
        await Promise.all(
          Array.from({ length: callers }, (_, i) => bump(i % 2 === 0 || !peer ? store : peer)),
        );
        const v = await store.vars.get(executionId, 'counter');
        expect(v?.value).toBe(callers);
      });

      it('rolls a transaction back when its function throws', async () => {
        const { store } = get();
        const executionId = ids.next();
        await expect(
          store.tx(async (tx) => {
            await tx.vars.set(executionId, [{ name: 'a', value: 1 }]);
            throw new Error('boom');
          }),
        ).rejects.toThrow('boom');
        expect(await store.vars.list(executionId)).toEqual([]);
      });
    });

    eventContract(get);
    executionTxContract(get);
    freshAppendContract(get);
    commandContract(get);
    registryContract(get);
  });
}
