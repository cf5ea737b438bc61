/**
 * `/api/postgres/execute` is admin SQL (issue 10 item 16): a long statement is cancelled after
 * NOETL_SQL_STATEMENT_TIMEOUT_SECONDS instead of holding a pooled connection, and beyond
 * loopback the route needs the internal token, not just the API token.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgliteBackend, postgresBackend, startTestServer, type TestBackend } from '../helpers/server-app.js';

const json = { 'content-type': 'application/json' };

describe('admin SQL on PostgreSQL', () => {
  let backend: TestBackend;
  beforeAll(async () => {
    backend = await postgresBackend();
  }, 60_000);
  afterAll(async () => backend?.dispose());

  it('cancels a statement past the timeout with 400, and the pool keeps serving', async () => {
    const s = await startTestServer(backend, {
      env: { NOETL_SQL_STATEMENT_TIMEOUT_SECONDS: '0.3', POSTGRES_MAX_CONNECTIONS: '2' },
    });
    try {
      for (const query of ['SELECT pg_sleep(20)', 'SELECT 1; SELECT pg_sleep(20)']) {
        const res = await s.app.inject({
          method: 'POST',
          url: '/api/postgres/execute',
          headers: json,
          payload: JSON.stringify({ query }),
        });
        expect({ query, status: res.statusCode }).toEqual({ query, status: 400 });
        expect(res.json()).toMatchObject({
          code: 'BAD_REQUEST',
          error: expect.stringMatching(/cancelled after 0.3 s/),
        });
      }
      const ok = await s.app.inject({
        method: 'POST',
        url: '/api/postgres/execute',
        headers: json,
        payload: JSON.stringify({ query: 'SELECT 41 + 1 AS n' }),
      });
      expect(ok.json()).toMatchObject({ result: [{ n: 42 }] });
    } finally {
      await s.close();
    }
  }, 60_000);
});

describe('who may run admin SQL', () => {
  let backend: TestBackend;
  beforeAll(async () => {
    backend = await pgliteBackend();
  }, 60_000);
  afterAll(async () => backend?.dispose());

  const run = (s: Awaited<ReturnType<typeof startTestServer>>, token?: string) =>
    s.app.inject({
      method: 'POST',
      url: '/api/postgres/execute',
      headers: { ...json, ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
      payload: JSON.stringify({ query: 'SELECT count(*) AS n FROM noetl.credential' }),
    });

  it('the local user on a loopback server', async () => {
    const s = await startTestServer(backend);
    try {
      expect((await run(s)).statusCode).toBe(200);
    } finally {
      await s.close();
    }
  });

  it('beyond loopback: only the internal token, and nobody while it is unset', async () => {
    const open = await startTestServer(backend, {
      env: { NOETL_HOST: '0.0.0.0', NOETL_API_TOKEN: 'api-tok' },
    });
    try {
      const res = await run(open, 'api-tok');
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({
        code: 'UNAVAILABLE',
        error: expect.stringMatching(/NOETL_INTERNAL_API_TOKEN/),
      });
      // other routes still take the API token
      expect(
        (
          await open.app.inject({
            method: 'GET',
            url: '/api/credentials',
            headers: { authorization: 'Bearer api-tok' },
          })
        ).statusCode,
      ).toBe(200);
    } finally {
      await open.close();
    }
    const guarded = await startTestServer(backend, {
      env: { NOETL_HOST: '0.0.0.0', NOETL_API_TOKEN: 'api-tok', NOETL_INTERNAL_API_TOKEN: 'internal-tok' },
    });
    try {
      expect((await run(guarded, 'api-tok')).statusCode).toBe(403);
      expect((await run(guarded)).statusCode).toBe(401);
      const ok = await run(guarded, 'internal-tok');
      expect(ok.statusCode, ok.body).toBe(200);
    } finally {
      await guarded.close();
    }
  });
});
