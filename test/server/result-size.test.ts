/**
 * Issue 12 part 2: a result larger than the control plane takes in one request (50 MB, over the
 * default 10 MiB NOETL_BODY_LIMIT_BYTES) fails its step with RESULT_TOO_LARGE and the size; the
 * execution ends FAILED instead of staying RUNNING (before: a 413, nothing posted, the command
 * left claimed).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestServer, type RunningServer } from '../helpers/embedded-server.js';

const PLAYBOOK = `apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: huge, path: tests/size/huge }
workflow:
  - step: start
    tool:
      kind: python
      code: |
        result = {"blob": "a" * (50 * 1024 * 1024)}
    next: [ after ]
  - step: after
    tool: { kind: noop }
`;

let server: RunningServer;
beforeAll(async () => {
  server = await startTestServer();
}, 120_000);
afterAll(async () => {
  await server?.stop();
});

it('a 50 MB python result ends the execution FAILED with RESULT_TOO_LARGE', async () => {
  const path = await server.register(PLAYBOOK);
  const started = await server.post<{ execution_id: string }>('/api/execute', { path });
  expect(started.status).toBe(200);
  const id = started.body.execution_id;
  const status = await server.waitFor(id, 60_000);
  expect(status['status']).toBe('FAILED');
  const events = await server.get<{
    events: { event_type: string; node_name: string; result?: unknown; error?: string | null }[];
  }>(`/api/executions/${id}/events?limit=1000`);
  const failed = events.body.events.find((e) => e.event_type === 'command.failed' && e.node_name === 'start');
  expect(failed).toBeDefined();
  const text = JSON.stringify(failed);
  expect(text).toContain('RESULT_TOO_LARGE');
  const bytes = /the step's result is (\d+) bytes/.exec(text);
  expect(Number(bytes?.[1])).toBeGreaterThan(50 * 1024 * 1024);
  expect(
    events.body.events.some((e) => e.node_name === 'after' && e.event_type === 'command.completed'),
  ).toBe(false);
}, 90_000);
