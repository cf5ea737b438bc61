/**
 * The embedded workers run python steps on warm interpreters (NOETL_PYTHON_POOL): two
 * executions' steps share one, the second sees nothing the first set, and stopping the server
 * leaves no python process behind.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestServer, type RunningServer } from '../helpers/embedded-server.js';

const PLAYBOOK = `apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: pool_probe, path: tests/python/pool_probe }
workflow:
  - step: start
    tool:
      kind: python
      code: |
        import os, json
        seen = {"env": os.environ.get("NOETL_POOL_PROBE"), "attr": getattr(json, "probe", None)}
        os.environ["NOETL_POOL_PROBE"] = "secret-of-" + execution_id
        json.probe = "secret-of-" + execution_id
        result = {"pid": os.getpid(), "seen": seen}
`;

let server: RunningServer | undefined;
beforeAll(async () => {
  server = await startTestServer({ NOETL_EMBEDDED_WORKERS: '1' });
}, 120_000);
afterAll(async () => {
  await server?.stop();
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function run(s: RunningServer, path: string): Promise<{ pid: number; seen: unknown }> {
  const started = await s.post<{ execution_id: string }>('/api/execute', { path });
  expect(started.status).toBe(200);
  const id = started.body.execution_id;
  const status = await s.waitFor(id, 60_000);
  expect(status['status']).toBe('COMPLETED');
  const result = await s.get<{ step_results: Record<string, { pid: number; seen: unknown }> }>(
    `/api/executions/${id}/result`,
  );
  return result.body.step_results['start']!;
}

it('shares a warm interpreter between executions, reset, and stops it with the server', async () => {
  const s = server!;
  const path = await s.register(PLAYBOOK);
  const first = await run(s, path);
  const second = await run(s, path);
  expect(second.pid).toBe(first.pid);
  expect(second.seen).toEqual({ env: null, attr: null });
  expect(alive(first.pid)).toBe(true);
  await s.stop();
  server = undefined;
  expect(alive(first.pid)).toBe(false);
}, 120_000);
