/**
 * Lazy workload through the server (issue 11 item 8): a workload value that cannot render fails
 * only the step reading it, and a rerun keeps it so unless the new payload gives the value.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type RunningServer } from '../helpers/embedded-server.js';

let server: RunningServer;
let path = '';

beforeAll(async () => {
  server = await startTestServer();
  path = await server.register(`apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: lazy_rerun, path: tests/lazy/rerun }
workload:
  token: "{{ no_such_function() }}"
workflow:
  - step: start
    tool: { kind: noop, result: { token: "{{ workload.token }}" } }
`);
}, 120_000);

afterAll(async () => {
  await server?.stop();
});

async function finished(
  id: string,
): Promise<{ status: string; error: string | null; step_results: Record<string, unknown> }> {
  await server.waitFor(id);
  const r = await server.get<{ status: string; error: string | null; step_results: Record<string, unknown> }>(
    `/api/executions/${id}/result`,
  );
  return r.body;
}

describe('lazy workload on the server', () => {
  it('fails the reading step; a rerun fails the same way unless its payload gives the value', async () => {
    const first = await server.post<{ execution_id: string }>('/api/execute', { path });
    const failed = await finished(first.body.execution_id);
    expect(failed.status).toBe('FAILED');
    expect(failed.error).toContain('workload.token');

    const again = await server.post<{ execution_id: string }>(
      `/api/executions/${first.body.execution_id}/rerun`,
      {},
    );
    expect(again.status).toBe(200);
    const rerun = await finished(again.body.execution_id);
    expect(rerun.status).toBe('FAILED');
    expect(rerun.error).toContain('workload.token');

    const fixed = await server.post<{ execution_id: string }>(
      `/api/executions/${first.body.execution_id}/rerun`,
      {
        workload: { token: 'given' },
      },
    );
    const done = await finished(fixed.body.execution_id);
    expect(done.status).toBe('COMPLETED');
    expect(done.step_results['start']).toEqual({ token: 'given' });
  });
});
