/**
 * `POST /api/execute/batch` (issue 15): items are independent. A refused item (unregistered
 * playbook, bad version) is reported in its place and does not undo the items around it; each
 * item carries its own payload, pool and idempotency key.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type RunningServer } from '../helpers/embedded-server.js';

let server: RunningServer;

beforeAll(async () => {
  server = await startTestServer();
  await server.register(`apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: batch_noop, path: tests/batch/noop }
workflow:
  - step: start
    tool: { kind: noop }
`);
}, 60_000);

afterAll(async () => {
  await server?.stop();
});

interface BatchAnswer {
  count: number;
  started: number;
  duplicates: number;
  failed: number;
  results: { index: number; status: string; execution_id?: string; error?: string }[];
}

describe('POST /api/execute/batch', () => {
  it('starts the good items around a refused one, each with its own key and payload', async () => {
    const key = `batch-${Date.now()}`;
    const r = await server.post<BatchAnswer>('/api/execute/batch', {
      executions: [
        { path: 'tests/batch/noop', payload: { n: 1 } },
        { path: 'tests/batch/missing', payload: { n: 2 } },
        { path: 'tests/batch/noop', payload: { n: 3 }, dedup: { key } },
        { path: 'tests/batch/noop', version: 'nope', payload: { n: 4 } },
        { path: 'tests/batch/noop', payload: { n: 5 }, dedup: { key } },
      ],
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ count: 5, started: 2, duplicates: 1, failed: 2 });
    expect(r.body.results.map((x) => x.status)).toEqual([
      'started',
      'failed',
      'started',
      'failed',
      'duplicate',
    ]);
    expect(r.body.results[4]!.execution_id).toBe(r.body.results[2]!.execution_id);
    for (const i of [0, 2]) {
      const id = r.body.results[i]!.execution_id!;
      expect((await server.waitFor(id))['status']).toBe('COMPLETED');
      const e = await server.handle.store.executions.get(id);
      expect((e?.workload as Record<string, unknown>)['n']).toBe(i + 1);
    }
    expect(r.body.results[1]!.error).toContain('tests/batch/missing');
  }, 60_000);
});
