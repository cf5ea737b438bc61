/**
 * Issue 12 part 2: a result larger than the control plane takes in one request (over the default
 * 10 MiB NOETL_BODY_LIMIT_BYTES) is kept in the result store, as NoETL keeps a result past its
 * budget, and the step's value is its binding (`_ref`, a summary); one the store cannot keep
 * either (over 64 MiB) fails its step with RESULT_TOO_LARGE and the size, and the execution ends
 * FAILED instead of staying RUNNING (before: a 413, nothing posted, the command left claimed).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestServer, type RunningServer } from '../helpers/embedded-server.js';

const playbook = (mib: number): string => `apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: huge${mib}, path: tests/size/huge${mib} }
workflow:
  - step: start
    tool:
      kind: python
      code: |
        result = {"n": 7, "blob": "a" * (${mib} * 1024 * 1024)}
    next: [ after ]
  - step: after
    tool:
      kind: python
      input:
        n: "{{ start.n }}"
        ref: "{{ start._ref }}"
        store: "{{ start._store }}"
        blob: "{{ start.blob }}"
      code: |
        result = {"n": n, "kept": ref.startswith("noetl://execution/"), "store": store, "blob": len(blob)}
`;

let server: RunningServer;
beforeAll(async () => {
  server = await startTestServer();
}, 120_000);
afterAll(async () => {
  await server?.stop();
});

async function run(mib: number): Promise<{ id: string; status: unknown }> {
  const path = await server.register(playbook(mib));
  const started = await server.post<{ execution_id: string }>('/api/execute', { path });
  expect(started.status).toBe(200);
  const id = started.body.execution_id;
  const status = await server.waitFor(id, 60_000);
  return { id, status: status['status'] };
}

it('a 50 MiB python result is kept in the result store; the next step reads its binding', async () => {
  const { id, status } = await run(50);
  expect(status).toBe('COMPLETED');
  const result = await server.get<{ step_results: Record<string, Record<string, unknown>> }>(
    `/api/executions/${id}/result`,
  );
  // the summary of what was kept: scalars, long text cut at 500 characters
  expect(result.body.step_results['after']).toEqual({ n: 7, kept: true, store: 'disk', blob: 503 });
  const ref = result.body.step_results['start']?.['_ref'] as string;
  const whole = await server.get<{ n: number; blob: string }>(
    `/api/result/resolve?ref=${encodeURIComponent(ref)}`,
  );
  expect(whole.body.blob.length).toBe(50 * 1024 * 1024);
}, 90_000);

it('a 70 MiB python result ends the execution FAILED with RESULT_TOO_LARGE', async () => {
  const { id, status } = await run(70);
  expect(status).toBe('FAILED');
  const events = await server.get<{
    events: { event_type: string; node_name: string; result?: unknown; error?: string | null }[];
  }>(`/api/executions/${id}/events?limit=1000`);
  const failed = events.body.events.find((e) => e.event_type === 'command.failed' && e.node_name === 'start');
  expect(failed).toBeDefined();
  const text = JSON.stringify(failed);
  expect(text).toContain('RESULT_TOO_LARGE');
  const bytes = /the step's result is (\d+) bytes/.exec(text);
  expect(Number(bytes?.[1])).toBeGreaterThan(70 * 1024 * 1024);
  expect(
    events.body.events.some((e) => e.node_name === 'after' && e.event_type === 'command.completed'),
  ).toBe(false);
}, 120_000);
