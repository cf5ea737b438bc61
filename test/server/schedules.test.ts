/**
 * Schedules on the embedded server (docs/triggers.md): created, validated, fired every second,
 * paused, triggered by hand, edited; and the missed-fire policies after the server was down for an
 * hour (simulated by moving the schedules' pending tick an hour back while it is stopped).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/index.js';
import { startTestServer, type RunningServer } from '../helpers/embedded-server.js';
import { waitFor } from '../helpers/cluster.js';

const PLAYBOOK = `
apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: tick, path: tests/schedules/tick }
workload: { who: nobody }
workflow:
  - step: start
    tool: { kind: noop, result: { who: "{{ workload.who }}" } }
`;

interface Fire {
  fire_time: string;
  execution_id: string | null;
  outcome: string;
}

const homes: string[] = [];
afterAll(() => {
  for (const h of homes) rmSync(h, { recursive: true, force: true });
});

async function fires(server: RunningServer, id: string): Promise<Fire[]> {
  const r = await server.get<{ items: Fire[] }>(`/api/schedules/${id}/fires?limit=1000`);
  expect(r.status).toBe(200);
  return r.body.items;
}

describe('schedules on the embedded server', () => {
  it('validates, fires every second with its workload, pauses, triggers, keeps fields on PATCH', async () => {
    const server = await startTestServer();
    try {
      await server.register(PLAYBOOK);
      const bad = await server.post<{ code: string; error: string }>('/api/schedules', {
        path: 'tests/schedules/tick',
        cron: 'every day',
      });
      expect(bad.status).toBe(400);
      expect(bad.body.code).toBe('BAD_REQUEST');
      const badZone = await server.post<{ code: string }>('/api/schedules', {
        path: 'tests/schedules/tick',
        cron: '* * * * *',
        timezone: 'Mars/Base',
      });
      expect(badZone.status).toBe(400);
      const missing = await server.post<{ code: string }>('/api/schedules', {
        path: 'no/such',
        cron: '* * * * *',
      });
      expect(missing.status).toBe(404);

      const created = await server.post<{ schedule_id: string; next_fire_times: string[] }>(
        '/api/schedules',
        {
          path: 'tests/schedules/tick',
          cron: '* * * * * *',
          workload: { who: 'cron' },
        },
      );
      expect(created.status).toBe(201);
      const id = created.body.schedule_id;
      expect(created.body.next_fire_times).toHaveLength(5);
      const gaps = created.body.next_fire_times.map((t, i, all) =>
        i ? Date.parse(t) - Date.parse(all[i - 1]!) : 1000,
      );
      expect(new Set(gaps)).toEqual(new Set([1000]));

      const started = await waitFor(
        async () => {
          const f = (await fires(server, id)).filter((x) => x.outcome === 'started');
          return f.length >= 3 ? f : undefined;
        },
        'three fires',
        15_000,
      );
      const ticks = new Set(started.map((f) => f.fire_time));
      expect(ticks.size).toBe(started.length); // one execution per tick
      for (const f of started) expect(Date.parse(f.fire_time) % 1000).toBe(0);
      const status = await server.waitFor(started[0]!.execution_id!);
      expect(status['status']).toBe('COMPLETED');
      const result = await server.get<{ result?: unknown }>(
        `/api/executions/${started[0]!.execution_id}/result`,
      );
      expect(JSON.stringify(result.body)).toContain('cron');

      const paused = await server.post<{ enabled: boolean; next_run_at: string | null }>(
        `/api/schedules/${id}/pause`,
      );
      expect(paused.body).toMatchObject({ enabled: false, next_run_at: null });
      const countAtPause = (await fires(server, id)).length;
      await new Promise((r) => setTimeout(r, 1_600)); // longer than a tick plus a poll
      // at most the tick that was being fired as the pause landed
      expect((await fires(server, id)).length).toBeLessThanOrEqual(countAtPause + 1);

      const manual = await server.post<{ execution_id: string }>(`/api/schedules/${id}/trigger`);
      expect(manual.status).toBe(201);
      expect((await server.waitFor(manual.body.execution_id))['status']).toBe('COMPLETED');

      const patched = await fetch(`${server.url}/api/schedules/${id}`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ workload: { who: 'patched' } }),
      });
      expect(patched.status).toBe(200);
      expect(await patched.json()).toMatchObject({
        cron: '* * * * * *',
        enabled: false,
        workload: { who: 'patched' },
      });

      const list = await server.get<{ items: { schedule_id: string }[] }>('/api/schedules');
      expect(list.body.items.map((s) => s.schedule_id)).toContain(id);
      const del = await fetch(`${server.url}/api/schedules/${id}`, { method: 'DELETE' });
      expect(del.status).toBe(200);
      expect((await server.get(`/api/schedules/${id}`)).status).toBe(404);
    } finally {
      await server.stop();
    }
  }, 60_000);

  it('after an hour down: catchup all fires up to the limit, one fires once, skip fires none', async () => {
    // Every ten minutes, at minutes about five away from now: no tick falls while the test runs
    // (a tick during it would be fired by every policy), and the last missed one is minutes old.
    const offset = (new Date().getUTCMinutes() + 5) % 10;
    const EVERY_TEN_MINUTES_FAR_FROM_NOW = `0 ${offset}-59/10 * * * *`;
    const home = mkdtempSync(join(tmpdir(), 'noetl-schedules-'));
    homes.push(home);
    let server = await startTestServer({}, { home });
    const ids: Record<string, string> = {};
    try {
      await server.register(PLAYBOOK);
      for (const catchup of ['all', 'one', 'skip']) {
        const r = await server.post<{ schedule_id: string }>('/api/schedules', {
          path: 'tests/schedules/tick',
          cron: EVERY_TEN_MINUTES_FAR_FROM_NOW,
          catchup,
          catchup_limit: 4,
        });
        expect(r.status).toBe(201);
        ids[catchup] = r.body.schedule_id;
      }
    } finally {
      await server.stop({ keepHome: true });
    }
    // "down for an hour": every pending tick moves an hour back
    const store = await openStore({ dataDir: join(home, 'data') });
    try {
      await store.query(
        `UPDATE noetl.schedule SET next_run_at = date_trunc('minute', now()) - interval '1 hour'`,
      );
    } finally {
      await store.close();
    }
    server = await startTestServer({}, { home });
    try {
      const settled = async (id: string) => {
        const s = await server.get<{ next_run_at: string }>(`/api/schedules/${id}`);
        return Date.parse(s.body.next_run_at) > Date.now() ? s.body : undefined;
      };
      for (const id of Object.values(ids))
        await waitFor(() => settled(id), `schedule ${id} caught up`, 15_000);
      const all = await fires(server, ids['all']!);
      expect(all).toHaveLength(4);
      const times = all.map((f) => Date.parse(f.fire_time)).sort((a, b) => a - b);
      for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBe(600_000);
      expect(Date.now() - times.at(-1)!).toBeLessThan(600_000); // the most recent ticks
      expect(await fires(server, ids['one']!)).toHaveLength(1);
      expect(await fires(server, ids['skip']!)).toHaveLength(0);
      for (const f of [...all, ...(await fires(server, ids['one']!))]) {
        expect(f.outcome).toBe('started');
        expect((await server.waitFor(f.execution_id!))['status']).toBe('COMPLETED');
      }
    } finally {
      await server.stop();
    }
  }, 90_000);
});
