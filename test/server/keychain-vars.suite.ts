import { describe, expect, it } from 'vitest';
import { expectError, json, type GetFixture } from './api.suite.js';

const CATALOG = '700000000000000001';
const EXEC = '700000000000000002';

export function keychainAndVarTests(get: GetFixture): void {
  describe('keychain routes', () => {
    it('stores, reads, lists and deletes entries per scope', async () => {
      const { app } = get().server;
      const put = json(
        await app.inject({
          method: 'POST',
          url: `/api/keychain/${CATALOG}/api_token`,
          payload: {
            data: { access_token: 'tok-abc-123' },
            expires_in: 600,
            auto_renew: true,
            renew_config: { client_secret: 'cs-999' },
          },
        }),
      );
      expect(put).toMatchObject({ status: 'success', cache_key: `api_token:${CATALOG}:global` });
      const found = json(await app.inject({ method: 'GET', url: `/api/keychain/${CATALOG}/api_token` }));
      expect(found).toMatchObject({
        status: 'found',
        data: { access_token: 'tok-abc-123' },
        auto_renew: true,
        expired: false,
      });
      const local = json(
        await app.inject({
          method: 'POST',
          url: `/api/keychain/${CATALOG}/session`,
          payload: { data: { t: 1 }, scope_type: 'local', execution_id: EXEC },
        }),
      );
      expect(local['cache_key']).toBe(`session:${CATALOG}:${EXEC}`);
      expect(
        json(
          await app.inject({
            method: 'GET',
            url: `/api/keychain/${CATALOG}/session?scope_type=local&execution_id=${EXEC}`,
          }),
        )['data'],
      ).toEqual({ t: 1 });
      expectError(
        await app.inject({
          method: 'POST',
          url: `/api/keychain/${CATALOG}/session`,
          payload: { data: {}, scope_type: 'shared' },
        }),
        400,
      );
      expectError(
        await app.inject({
          method: 'POST',
          url: `/api/keychain/${CATALOG}/session`,
          payload: { scope_type: 'global' },
        }),
        400,
      );
      const list = json<{ entries: Record<string, unknown>[]; count: number }>(
        await app.inject({ method: 'GET', url: `/api/keychain/catalog/${CATALOG}` }),
      );
      expect(list.count).toBe(2);
      expect(JSON.stringify(list)).not.toContain('tok-abc-123');
      const deleted = json(
        await app.inject({
          method: 'DELETE',
          url: `/api/keychain/${CATALOG}/session?scope_type=local&execution_id=${EXEC}`,
        }),
      );
      expect(deleted).toEqual({ status: 'deleted', cache_key: `session:${CATALOG}:${EXEC}` });
      expectError(
        await app.inject({
          method: 'GET',
          url: `/api/keychain/${CATALOG}/session?scope_type=local&execution_id=${EXEC}`,
        }),
        404,
      );
    });

    it('answers an expired entry without its data, with the renew config', async () => {
      const { app } = get().server;
      await app.inject({
        method: 'POST',
        url: `/api/keychain/${CATALOG}/old`,
        payload: {
          data: { v: 'gone' },
          expires_at: '2020-01-01T00:00:00Z',
          auto_renew: true,
          renew_config: { endpoint: 'https://x' },
        },
      });
      const res = json(await app.inject({ method: 'GET', url: `/api/keychain/${CATALOG}/old` }));
      expect(res).toMatchObject({
        status: 'expired',
        expired: true,
        renew_config: { endpoint: 'https://x' },
      });
      expect(res).not.toHaveProperty('data');
    });

    it('keeps keychain data and renew configs encrypted at rest', async () => {
      const { rows } = await get().backend.store.query(
        `SELECT data_encrypted, renew_config::text AS rc FROM "${get().backend.schema}".keychain`,
      );
      const text = JSON.stringify(rows);
      expect(text).not.toContain('tok-abc-123');
      expect(text).not.toContain('cs-999');
    });
  });

  describe('variable routes', () => {
    it('sets (list and map forms), lists, reads, counts access and deletes', async () => {
      const { app } = get().server;
      const set = json(
        await app.inject({
          method: 'POST',
          url: `/api/vars/${EXEC}`,
          payload: {
            variables: [
              { var_name: 'a', var_value: { n: 1 } },
              { var_name: 'b', var_value: 'x', var_type: 'computed', source_step: 's1' },
            ],
          },
        }),
      );
      expect(set).toEqual({ status: 'ok', execution_id: EXEC, count: 2 });
      json(
        await app.inject({
          method: 'POST',
          url: `/api/vars/${EXEC}`,
          payload: { variables: { c: [1, 2] }, var_type: 'step_result' },
        }),
      );
      const list = json<Record<string, unknown>[]>(
        await app.inject({ method: 'GET', url: `/api/vars/${EXEC}` }),
      );
      expect(list.map((v) => [v['var_name'], v['var_type']]).sort()).toEqual([
        ['a', 'user_defined'],
        ['b', 'computed'],
        ['c', 'step_result'],
      ]);
      await app.inject({ method: 'GET', url: `/api/vars/${EXEC}/a` });
      const a = json(await app.inject({ method: 'GET', url: `/api/vars/${EXEC}/a` }));
      expect(a).toMatchObject({ execution_id: EXEC, var_name: 'a', var_value: { n: 1 }, access_count: 2 });
      expectError(
        await app.inject({
          method: 'POST',
          url: `/api/vars/${EXEC}`,
          payload: { variables: [{ var_name: 'z', var_value: 1, var_type: 'bogus' }] },
        }),
        400,
        'BAD_REQUEST',
      );
      expect(json(await app.inject({ method: 'DELETE', url: `/api/vars/${EXEC}/a` }))).toEqual({
        execution_id: EXEC,
        var_name: 'a',
        status: 'deleted',
      });
      expectError(await app.inject({ method: 'GET', url: `/api/vars/${EXEC}/a` }), 404, 'NOT_FOUND');
      expect(json(await app.inject({ method: 'DELETE', url: `/api/vars/${EXEC}` }))).toEqual({
        status: 'cleaned',
        execution_id: EXEC,
        count: 2,
      });
      expect(json(await app.inject({ method: 'GET', url: `/api/vars/${EXEC}` }))).toEqual([]);
    });
  });
}
