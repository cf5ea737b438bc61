/**
 * `PATCH /api/credentials/{key}` (issue 13): a merge update for the UI's credential editor. Given
 * fields of `data` are set, others kept, null removes one; the answer never holds data. The editor
 * reads the field names (never values) with `include_fields=true`. On PGlite and PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  pgliteBackend,
  postgresBackend,
  startTestServer,
  type BackendFactory,
  type TestBackend,
  type TestServer,
} from '../helpers/server-app.js';

for (const [name, factory] of [
  ['pglite', pgliteBackend],
  ['postgres', postgresBackend],
] as [string, BackendFactory][]) {
  describe(`PATCH /api/credentials (${name})`, () => {
    let backend: TestBackend;
    let server: TestServer;
    beforeAll(async () => {
      backend = await factory();
      server = await startTestServer(backend);
    }, 60_000);
    afterAll(async () => {
      await server?.close();
      await backend?.dispose();
    });

    const call = (method: 'GET' | 'POST' | 'PATCH', url: string, payload?: unknown) =>
      server.app.inject({ method, url, ...(payload === undefined ? {} : { payload: payload as object }) });

    it('merges data fields, keeps the others and the id, and never answers data', async () => {
      const created = await call('POST', '/api/credentials', {
        name: 'pg_main',
        type: 'postgres',
        description: 'main db',
        tags: ['prod'],
        data: { host: 'db1', port: 5432, user: 'app', password: 's3cret-original' },
      });
      expect(created.statusCode).toBe(200);
      const id = created.json<{ id: string }>().id;

      const patched = await call('PATCH', '/api/credentials/pg_main', {
        data: { password: 's3cret-rotated', port: null, sslmode: 'require' },
        description: 'main database',
      });
      expect(patched.statusCode, patched.body).toBe(200);
      const body = patched.json<Record<string, unknown>>();
      expect(body).toMatchObject({
        id,
        name: 'pg_main',
        type: 'postgres',
        description: 'main database',
        tags: ['prod'],
      });
      expect(body).not.toHaveProperty('data');
      expect(patched.body).not.toContain('s3cret');

      const plain = await call('GET', `/api/credentials/${id}`);
      expect(plain.body).not.toContain('s3cret');
      const full = await call('GET', `/api/credentials/${id}?include_data=true`);
      expect(full.json<{ data: unknown }>().data).toEqual({
        host: 'db1',
        user: 'app',
        password: 's3cret-rotated',
        sslmode: 'require',
      });
    });

    it('names the data fields with include_fields=true, never their values', async () => {
      await call('POST', '/api/credentials', {
        name: 'fields_only',
        type: 'postgres',
        data: { user: 'app', password: 's3cret-fields', host: 'db1' },
      });
      const plain = await call('GET', '/api/credentials/fields_only');
      expect(plain.json()).not.toHaveProperty('fields');
      const res = await call('GET', '/api/credentials/fields_only?include_fields=true');
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toMatchObject({ name: 'fields_only', fields: ['host', 'password', 'user'] });
      expect(res.json()).not.toHaveProperty('data');
      expect(res.body).not.toContain('s3cret');
      expect(res.body).not.toContain('db1');
    });

    it('renames and retypes keeping the id; a taken name is 409, an unknown key 404', async () => {
      await call('POST', '/api/credentials', { name: 'api_a', type: 'http', data: { token: 'ta' } });
      const b = await call('POST', '/api/credentials', {
        name: 'api_b',
        type: 'http',
        data: { token: 'tb' },
      });
      const idB = b.json<{ id: string }>().id;
      const renamed = await call('PATCH', '/api/credentials/api_b', { name: 'api_c', type: 'bearer' });
      expect(renamed.statusCode).toBe(200);
      expect(renamed.json()).toMatchObject({ id: idB, name: 'api_c', type: 'bearer' });
      const data = await call('GET', '/api/credentials/api_c?include_data=true');
      expect(data.json<{ data: unknown }>().data).toEqual({ token: 'tb' });
      expect((await call('GET', '/api/credentials/api_b')).statusCode).toBe(404);

      const taken = await call('PATCH', '/api/credentials/api_c', { name: 'api_a' });
      expect(taken.statusCode).toBe(409);
      expect((await call('PATCH', '/api/credentials/nope', { type: 'x' })).statusCode).toBe(404);
      const bad = await call('PATCH', '/api/credentials/api_c', { data: 'not a map' });
      expect(bad.statusCode).toBe(400);
    });

    it('applies concurrent merges of one credential one after the other', async () => {
      await call('POST', '/api/credentials', { name: 'many', type: 'generic', data: {} });
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          call('PATCH', '/api/credentials/many', { data: { [`k${i}`]: i } }),
        ),
      );
      expect(results.map((r) => r.statusCode)).toEqual(Array(8).fill(200));
      const full = await call('GET', '/api/credentials/many?include_data=true');
      expect(full.json<{ data: unknown }>().data).toEqual(
        Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`k${i}`, i])),
      );
    });
  });
}
