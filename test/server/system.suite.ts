import { describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/index.js';
import { startTestServer } from '../helpers/server-app.js';
import { expectError, json, type GetFixture } from './api.suite.js';

export function systemTests(get: GetFixture): void {
  describe('system routes', () => {
    it('answers the probes', async () => {
      const { app } = get().server;
      expect(json(await app.inject({ method: 'GET', url: '/health' }))).toEqual({ status: 'ok' });
      expect(json(await app.inject({ method: 'GET', url: '/health/' }))).toEqual({ status: 'ok' });
      const health = json(await app.inject({ method: 'GET', url: '/api/health' }));
      expect(health).toMatchObject({ status: 'ok', database: 'connected', bus: { kind: 'memory' } });
    });

    it('reports the database down as 503 and a critical component failing', async () => {
      const { backend } = get();
      const down = Object.create(backend.store) as Store & { health: Store['health'] };
      down.health = () => Promise.resolve({ ok: false, latencyMs: 1, error: 'connection refused' });
      const server = await startTestServer({ ...backend, store: down });
      try {
        const res = await server.app.inject({ method: 'GET', url: '/api/health' });
        expect(json(res, 503)).toMatchObject({ status: 'unhealthy', database: 'disconnected' });
      } finally {
        await server.close();
      }
      const withBus = await startTestServer(backend, {
        deps: {
          bus: { kind: 'nats', status: () => 'connected' },
          healthChecks: [
            { name: 'workers', critical: true, check: () => ({ ok: false, detail: 'none running' }) },
          ],
        },
      });
      try {
        const res = await withBus.app.inject({ method: 'GET', url: '/api/health' });
        expect(json(res, 503)).toMatchObject({
          status: 'unhealthy',
          database: 'connected',
          bus: { kind: 'nats', status: 'connected' },
          components: { workers: { ok: false, detail: 'none running' } },
        });
      } finally {
        await withBus.close();
      }
    });

    it('serves pool status, server status and dashboard counters', async () => {
      const { app } = get().server;
      const pool = json(await app.inject({ method: 'GET', url: '/api/pool/status' }));
      expect(pool).toMatchObject({ status: 'ok', kind: get().backend.kind === 'postgres' ? 'pg' : 'pglite' });
      const status = json(await app.inject({ method: 'GET', url: '/api/status' }));
      expect(status).toMatchObject({ status: 'ok', server: { version: '0.1.0' }, bus: { kind: 'memory' } });
      const stats = json(await app.inject({ method: 'GET', url: '/api/dashboard/stats' }));
      expect(stats).toMatchObject({ status: 'ok', executions: { total: expect.any(Number) as number } });
    });

    it('serves Prometheus metrics by route pattern, unless disabled', async () => {
      const { app } = get().server;
      await app.inject({ method: 'GET', url: '/api/vars/123' });
      const res = await app.inject({ method: 'GET', url: '/metrics' });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toContain('text/plain');
      expect(res.body).toContain(
        'noetl_http_requests_total{method="GET",route="/api/vars/:execution_id",status="200"}',
      );
      expect(res.body).toContain('noetl_process_cpu_seconds_total');
      const off = await startTestServer(get().backend, { env: { NOETL_DISABLE_METRICS: 'true' } });
      try {
        expectError(await off.app.inject({ method: 'GET', url: '/metrics' }), 404, 'NOT_FOUND');
      } finally {
        await off.close();
      }
    });

    it('publishes the OpenAPI document and a docs page', async () => {
      const { app } = get().server;
      const doc = json<{ openapi: string; paths: Record<string, Record<string, { requestBody?: unknown }>> }>(
        await app.inject({ method: 'GET', url: '/openapi.json' }),
      );
      expect(doc.openapi).toMatch(/^3\./);
      expect(doc.paths['/api/catalog/register']?.['post']?.requestBody).toBeDefined();
      expect(Object.keys(doc.paths)).toEqual(
        expect.arrayContaining(['/api/credentials/{key}', '/api/vars/{execution_id}']),
      );
      const page = await app.inject({ method: 'GET', url: '/docs' });
      expect(page.statusCode).toBe(200);
      expect(page.headers['content-type']).toContain('text/html');
      expect(page.body).toContain('swagger-ui-bundle.js');
    });

    it('answers unknown routes and methods with JSON 404, and sends no CORS headers by default', async () => {
      const { app } = get().server;
      const res = await app.inject({ method: 'GET', url: '/api/nothing/here?x=1' });
      expectError(res, 404, 'NOT_FOUND');
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
      expectError(await app.inject({ method: 'PATCH', url: '/api/catalog/list' }), 404, 'NOT_FOUND');
      expectError(await app.inject({ method: 'GET', url: '/api/vars/%E0%A4%A' }), 400, 'BAD_REQUEST');
      const pre = await app.inject({
        method: 'OPTIONS',
        url: '/api/catalog/list',
        headers: {
          origin: 'http://ui.example',
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type,authorization',
        },
      });
      expectError(pre, 403, 'FORBIDDEN');
      expect(pre.headers['access-control-allow-origin']).toBeUndefined();
    });

    it('requires the API token on every route but the health checks when one is set', async () => {
      const server = await startTestServer(get().backend, {
        env: { NOETL_API_TOKEN: 'api-token-123', NOETL_INTERNAL_API_TOKEN: 'internal-456' },
      });
      try {
        const { app } = server;
        expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
        expect((await app.inject({ method: 'GET', url: '/api/health' })).statusCode).toBe(200);
        for (const url of ['/api/credentials', '/metrics', '/openapi.json', '/api/no/such/route']) {
          const missing = await app.inject({ method: 'GET', url });
          expectError(missing, 401, 'UNAUTHORIZED');
          expect(missing.headers['www-authenticate']).toBe('Bearer');
          expectError(
            await app.inject({ method: 'GET', url, headers: { authorization: 'Bearer nope' } }),
            403,
            'FORBIDDEN',
          );
        }
        const ok = await app.inject({
          method: 'GET',
          url: '/api/credentials',
          headers: { authorization: 'Bearer api-token-123' },
        });
        expect(ok.statusCode).toBe(200);
        const internal = await app.inject({
          method: 'GET',
          url: '/api/credentials',
          headers: { authorization: 'bearer internal-456' },
        });
        expect(internal.statusCode).toBe(200);
        const basic = await app.inject({
          method: 'GET',
          url: '/api/status',
          headers: { authorization: 'Basic YTpi' },
        });
        expectError(basic, 401, 'UNAUTHORIZED');
        const doc = json<{
          security?: unknown[];
          paths: Record<string, Record<string, { security?: unknown[] }>>;
        }>(
          await app.inject({
            method: 'GET',
            url: '/openapi.json',
            headers: { authorization: 'Bearer api-token-123' },
          }),
        );
        expect(doc.security).toEqual([{ bearer: [] }]);
        expect(doc.paths['/health']?.['get']?.security).toEqual([]);
      } finally {
        await server.close();
      }
    });
  });
}
