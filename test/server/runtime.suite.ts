import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/shared/index.js';
import { RuntimeSweeper } from '../../src/server/index.js';
import { expectError, json, type GetFixture } from './api.suite.js';

export function runtimeTests(get: GetFixture): void {
  describe('worker pool routes and sweeper', () => {
    it('registers, heartbeats, lists and deregisters pools', async () => {
      const { app } = get().server;
      const reg = json(
        await app.inject({
          method: 'POST',
          url: '/api/worker/pool/register',
          payload: {
            name: 'pool-a',
            component_type: 'worker_pool',
            capacity: 4,
            labels: { zone: 'a' },
            hostname: 'h1',
          },
        }),
      );
      expect(reg).toMatchObject({
        status: 'ok',
        runtime_status: 'active',
        name: 'pool-a',
        kind: 'worker_pool',
        capacity: 4,
      });
      expect(reg['runtime_id']).toMatch(/^\d+$/);
      expect(reg['runtime']).toEqual({ hostname: 'h1' });
      await app.inject({
        method: 'POST',
        url: '/api/worker/pool/register',
        payload: { name: 'api-1', kind: 'server_api' },
      });
      expect(
        json(
          await app.inject({
            method: 'POST',
            url: '/api/worker/pool/heartbeat',
            payload: { name: 'pool-a' },
          }),
        ),
      ).toEqual({
        status: 'ok',
        message: 'Heartbeat recorded',
      });
      expectError(
        await app.inject({ method: 'POST', url: '/api/worker/pool/heartbeat', payload: { name: 'nope' } }),
        404,
      );
      const pools = json<{ name: string }[]>(await app.inject({ method: 'GET', url: '/api/worker/pools' }));
      expect(pools.map((p) => p.name)).toContain('pool-a');
      expect(pools.map((p) => p.name)).not.toContain('api-1');
      const servers = json<{ name: string }[]>(
        await app.inject({ method: 'GET', url: '/api/worker/pools?kind=server_api' }),
      );
      expect(servers.map((p) => p.name)).toEqual(['api-1']);
      const del = await app.inject({
        method: 'DELETE',
        url: '/api/worker/pool/deregister',
        payload: { name: 'api-1', kind: 'server_api' },
      });
      expect(json(del)).toMatchObject({ status: 'ok' });
      const gone = json<{ status: string }[]>(
        await app.inject({ method: 'GET', url: '/api/worker/pools?kind=server_api' }),
      );
      expect(gone[0]?.status).toBe('inactive');
      expectError(
        await app.inject({
          method: 'DELETE',
          url: '/api/worker/pool/deregister',
          payload: { name: 'never-registered' },
        }),
        404,
      );
    });

    it('marks silent pools offline, and a heartbeat revives them', async () => {
      const { app } = get().server;
      const sweeper = new RuntimeSweeper({
        runtime: get().backend.store.runtime,
        intervalSeconds: 3600,
        offlineSeconds: 0.001,
        logger: silentLogger,
      });
      await new Promise((r) => setTimeout(r, 10));
      expect(await sweeper.sweep()).toContain('pool-a');
      const offline = json<{ name: string; status: string }[]>(
        await app.inject({ method: 'GET', url: '/api/worker/pools?status=offline' }),
      );
      expect(offline.map((p) => p.name)).toContain('pool-a');
      await app.inject({ method: 'POST', url: '/api/worker/pool/heartbeat', payload: { name: 'pool-a' } });
      const active = json<{ name: string }[]>(
        await app.inject({ method: 'GET', url: '/api/worker/pools?name=pool-a' }),
      );
      expect(active[0]).toMatchObject({ name: 'pool-a', status: 'active' });
      sweeper.start();
      expect(sweeper.started).toBe(true);
      await sweeper.stop();
      expect(sweeper.started).toBe(false);
    });
  });
}
