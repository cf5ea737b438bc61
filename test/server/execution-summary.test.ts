/**
 * `GET /api/executions/{id}/summary` (issue 13): the web UI's execution page in one request,
 * each step folded by the engine (status, attempts, loop progress, times) plus the graph, and
 * the event id its stream resumes from. Checked against the event log of the same execution.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type RunningServer } from '../helpers/embedded-server.js';

let server: RunningServer;
beforeAll(async () => {
  server = await startTestServer();
}, 120_000);
afterAll(async () => {
  await server?.stop();
});

interface Summary {
  execution_id: string;
  path: string;
  status: string;
  error: string | null;
  started_at: string | null;
  completed_at: string | null;
  last_event_id: string;
  event_count: number;
  workload: Record<string, unknown>;
  steps: {
    name: string;
    status: string;
    attempts: number;
    runs: number;
    loop: { expected: number; done: number } | null;
    entered_at: string | null;
    completed_at: string | null;
    error: string | null;
  }[];
  graph: { entry: string; steps: { name: string }[]; arcs: { from: string; to: string }[] };
}

describe('execution summary', () => {
  it('folds every step, loop progress and the failure, and names the last event', async () => {
    const path = await server.register(`apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: summary, path: tests/summary }
workload: { items: [1, 2, 3, 4] }
workflow:
  - step: start
    tool: { kind: noop }
    next: [ { step: each } ]
  - step: each
    loop:
      in: "{{ workload.items }}"
      iterator: item
      spec: { mode: parallel }
    tool: { kind: noop }
    next: [ { step: boom } ]
  - step: boom
    tool: { kind: python, code: "raise RuntimeError('boom')" }
    next: [ { step: end } ]
  - step: end
    tool: { kind: noop }
`);
    const started = await server.post<{ execution_id: string }>('/api/execute', { path });
    const id = started.body.execution_id;
    await server.waitFor(id);
    const { status, body } = await server.get<Summary>(`/api/executions/${id}/summary`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ execution_id: id, path: 'tests/summary', status: 'FAILED' });
    expect(body.error).toContain('boom');
    expect(body.workload).toMatchObject({ items: [1, 2, 3, 4] });
    const steps = Object.fromEntries(body.steps.map((s) => [s.name, s]));
    expect(steps['start']).toMatchObject({ status: 'completed', attempts: 1, runs: 1, loop: null });
    expect(steps['each']).toMatchObject({ status: 'completed', attempts: 1, loop: { expected: 4, done: 4 } });
    expect(steps['boom']).toMatchObject({ status: 'failed' });
    expect(steps['boom']?.error).toContain('RuntimeError: boom');
    expect(steps['end']).toBeUndefined();
    expect(Date.parse(steps['start']?.entered_at ?? '')).toBeLessThanOrEqual(
      Date.parse(steps['start']?.completed_at ?? ''),
    );
    expect(body.graph.steps.map((s) => s.name)).toEqual(['start', 'each', 'boom', 'end']);
    expect(body.graph.arcs).toContainEqual({ from: 'each', to: 'boom' });

    // The stream resumes after the log's last event: the summary accounts for all of them.
    const events = await server.get<{ events: { event_id: string }[] }>(
      `/api/executions/${id}/events?limit=10000`,
    );
    expect(body.last_event_id).toBe(events.body.events.at(-1)?.event_id);
    expect(body.event_count).toBe(events.body.events.length);
  });

  it('answers an unknown execution with 404 JSON', async () => {
    const { status, body } = await server.get<{ code?: string }>('/api/executions/12345/summary');
    expect(status).toBe(404);
    expect(body).toHaveProperty('code');
  });
});
