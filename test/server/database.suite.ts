import { describe, expect, it } from 'vitest';
import { expectError, json, type GetFixture } from './api.suite.js';

const post = (get: GetFixture, url: string, payload?: unknown) =>
  get().server.app.inject({
    method: 'POST',
    url,
    ...(payload === undefined ? {} : { payload: payload as object }),
  });

export function databaseTests(get: GetFixture): void {
  describe('database routes', () => {
    it('validates and initialises the schema', async () => {
      const v = json(await get().server.app.inject({ method: 'GET', url: '/api/db/validate' }));
      expect(v).toMatchObject({ status: 'ok', valid: true, missing: [], pending_migrations: [] });
      expect(v['tables']).toEqual(
        expect.arrayContaining(['catalog', 'event', 'credential', 'runtime', 'transient']),
      );
      const init = json(await post(get, '/api/db/init'));
      expect(init).toMatchObject({ status: 'ok', valid: true, applied: [], message: 'schema is up to date' });
      const withEmptyJson = await get().server.app.inject({
        method: 'POST',
        url: '/api/db/init',
        headers: { 'content-type': 'application/json' },
        payload: '',
      });
      expect(withEmptyJson.statusCode).toBe(200);
    });

    it('runs SQL with parameters, from base64, and in a schema', async () => {
      const one = json(
        await post(get, '/api/postgres/execute', {
          query: 'SELECT $1::int + 1 AS n, $2::text AS s',
          parameters: [41, 'x'],
        }),
      );
      expect(one).toMatchObject({ status: 'ok', result: [{ n: 42, s: 'x' }] });
      const b64 = Buffer.from('SELECT 1 AS a; SELECT 2 AS b').toString('base64');
      expect(json(await post(get, '/api/postgres/execute', { query_base64: b64 }))['result']).toEqual([
        { b: 2 },
      ]);
      const schema = get().backend.schema;
      const inSchema = json(
        await post(get, '/api/postgres/execute', {
          query: 'SELECT count(*)::int AS n FROM catalog WHERE false',
          schema,
        }),
      );
      expect(inSchema['result']).toEqual([{ n: 0 }]);
      const big = json(
        await post(get, '/api/postgres/execute', { query: 'SELECT 9223372036854775807::bigint AS big' }),
      );
      expect(big['result']).toEqual([{ big: '9223372036854775807' }]);
    });

    it('answers SQL errors and missing SQL with 400 and the database message', async () => {
      const syntax = expectError(
        await post(get, '/api/postgres/execute', { query: 'SELEC nonsense' }),
        400,
        'BAD_REQUEST',
      );
      expect(String(syntax['error'])).toMatch(/syntax error/);
      const missing = expectError(
        await post(get, '/api/postgres/execute', { query: 'SELECT * FROM nowhere_at_all' }),
        400,
      );
      expect(String(missing['error'])).toMatch(/nowhere_at_all/);
      expectError(
        await post(get, '/api/postgres/execute', { query: 'SELECT $1::int', parameters: ['abc'] }),
        400,
      );
      expectError(await post(get, '/api/postgres/execute', {}), 400, 'BAD_REQUEST');
      expectError(
        await post(get, '/api/postgres/execute', { query: 'SELECT 1', schema: 'x; DROP TABLE y' }),
        400,
      );
      // the server still works afterwards (no broken transaction left behind)
      expect(json(await post(get, '/api/postgres/execute', { query: 'SELECT 1 AS ok' }))['result']).toEqual([
        { ok: 1 },
      ]);
    });
  });
}
