/**
 * `GET /api/dashboard/stats` for the web UI (issue 13): the counters of the last 24 hours, commands
 * completed per minute, the latest failures with the failed step and its error, worker pools.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type RunningServer } from '../helpers/embedded-server.js';

const OK = `apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: ok, path: tests/dash/ok }
workflow:
  - step: start
    tool: { kind: shell, command: "echo one" }
    next: [ end ]
  - step: end
    tool: { kind: shell, command: "echo two" }
`;
const BAD = `apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: bad, path: tests/dash/bad }
workflow:
  - step: start
    tool: { kind: shell, command: "echo fine" }
    next: [ load ]
  - step: load
    tool: { kind: shell, command: "echo boom >&2; exit 3" }
`;

interface Stats {
  running: number;
  failed_24h: number;
  completed_24h: number;
  executions: { total: number };
  throughput: { t: string; count: number }[];
  latest_failures: {
    execution_id: string;
    path: string;
    step: string | null;
    error: string | null;
    at: string;
  }[];
  worker_pools: {
    total: number;
    items: { name: string; slots: number | null; active: number; last_heartbeat: string; offline: boolean }[];
  };
}

let server: RunningServer;
beforeAll(async () => {
  server = await startTestServer();
  await server.register(OK);
  await server.register(BAD);
}, 120_000);
afterAll(async () => {
  await server?.stop();
});

describe('dashboard stats', () => {
  it('counts the last 24 hours, commands per minute, the latest failures and worker pools', async () => {
    const before = (await server.get<Stats>('/api/dashboard/stats')).body;
    expect(before.throughput).toHaveLength(60);
    const ids: string[] = [];
    for (const path of ['tests/dash/ok', 'tests/dash/ok', 'tests/dash/bad']) {
      const r = await server.post<{ execution_id: string }>('/api/execute', { path });
      ids.push(r.body.execution_id);
    }
    for (const id of ids) await server.waitFor(id);
    const after = (await server.get<Stats>('/api/dashboard/stats')).body;

    expect(after.completed_24h - before.completed_24h).toBe(2);
    expect(after.failed_24h - before.failed_24h).toBe(1);
    expect(after.running).toBe(0);
    expect(after.executions.total - before.executions.total).toBe(3);

    // 2 x 2 commands completed, plus `start` of the failed one
    const sum = (s: Stats) => s.throughput.reduce((a, b) => a + b.count, 0);
    expect(sum(after) - sum(before)).toBe(5);
    const times = after.throughput.map((x) => Date.parse(x.t));
    expect(times.every((t, i) => i === 0 || t - times[i - 1]! === 60_000)).toBe(true);
    expect(Date.now() - times[59]!).toBeLessThan(120_000);

    const failure = after.latest_failures[0]!;
    expect(failure).toMatchObject({ execution_id: ids[2], path: 'tests/dash/bad', step: 'load' });
    expect(failure.error).toEqual(expect.any(String));
    expect(Date.parse(failure.at)).toBeGreaterThan(Date.now() - 120_000);

    expect(after.worker_pools.items.length).toBe(after.worker_pools.total);
    expect(after.worker_pools.items.length).toBeGreaterThan(0);
    for (const pool of after.worker_pools.items) {
      expect(pool.offline).toBe(false);
      expect(pool.active).toBe(0);
      expect(Date.parse(pool.last_heartbeat)).toBeGreaterThan(Date.now() - 300_000);
    }
  }, 60_000);
});
