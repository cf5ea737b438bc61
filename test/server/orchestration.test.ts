/**
 * The control plane end to end in one process: PGlite store, in-process bus and workers, the
 * HTTP API. NoETL's upstream playbooks (present in CI beside the repository; that suite is
 * skipped with a note when they are absent) give the same outcomes through the API as with
 * `noetl run`; the rest uses the project's own playbooks and inline ones.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPlaybookFile, runLocal } from '../../src/local/index.js';
import { paginationHandler, startFakeApi, type FakeApi } from '../helpers/fake-api.js';
import { startTestServer, type RunningServer } from '../helpers/embedded-server.js';
import { skipUpstream, UPSTREAM_DIR } from '../helpers/upstream.js';

const CONFORMANCE = UPSTREAM_DIR;
const OWN = new URL('../conformance/playbooks/', import.meta.url).pathname;
let server: RunningServer;
let api: FakeApi;
const seedDir = mkdtempSync(join(tmpdir(), 'noetl-seed-'));
writeFileSync(
  join(seedDir, 'sitecustomize.py'),
  [
    'import os, random',
    "p = os.environ.get('NOETL_TEST_ATTEMPT_FILE')",
    'if p:',
    '    n = int(open(p).read()) if os.path.exists(p) else 0',
    "    open(p, 'w').write(str(n + 1))",
    '    random.seed([0, 1, 5][min(n, 2)])',
    '',
  ].join('\n'),
);

beforeAll(async () => {
  api = await startFakeApi(paginationHandler(35));
  server = await startTestServer(
    {},
    {
      toolEnv: {
        ...process.env,
        PYTHONPATH: seedDir,
        NOETL_TEST_ATTEMPT_FILE: join(seedDir, 'server-attempts'),
        // Tools on a server see an allow-listed environment: this name is listed for them.
        NOETL_KEYCHAIN_ENV_VARS: 'NOETL_TEST_ATTEMPT_FILE',
      },
    },
  );
}, 180_000);

afterAll(async () => {
  await server?.stop();
  await api?.close();
  rmSync(seedDir, { recursive: true, force: true });
});

async function viaApi(file: string, payload: Record<string, unknown> = {}) {
  const path = await server.register(readFileSync(join(CONFORMANCE, file), 'utf8'));
  const started = await server.post<{ execution_id: string; status: string }>('/api/execute', {
    path,
    payload,
  });
  expect(started.status).toBe(200);
  await server.waitFor(started.body.execution_id);
  const result = await server.get<{
    status: string;
    step_results: Record<string, unknown>;
    error: string | null;
  }>(`/api/executions/${started.body.execution_id}/result`);
  return { id: started.body.execution_id, ...result.body };
}

/** One of the project's own conformance playbooks through the API. */
async function viaOwn(file: string) {
  const path = await server.register(readFileSync(join(OWN, file), 'utf8'));
  const started = await server.post<{ execution_id: string }>('/api/execute', { path });
  expect(started.status).toBe(200);
  await server.waitFor(started.body.execution_id);
  const status = await server.get<{ status: string }>(`/api/executions/${started.body.execution_id}/status`);
  return { id: started.body.execution_id, status: status.body.status };
}

async function viaLocal(file: string, payload: Record<string, unknown> = {}, env?: Record<string, string>) {
  const path = join(CONFORMANCE, file);
  const { playbook } = await loadPlaybookFile(path);
  return runLocal({
    playbook,
    file: path,
    payload,
    runDir: false,
    ...(env ? { services: { env: { ...process.env, ...env } } } : {}),
  });
}

describe('the embedded server', () => {
  it('writes the contract event sequence for a simple execution', async () => {
    const { id, status } = await viaOwn('greeting.yaml');
    expect(status).toBe('COMPLETED');
    const events = await server.get<{ events: { event_type: string; node_name: string }[] }>(
      `/api/executions/${id}/events`,
    );
    const start = events.body.events
      .filter((e) => e.node_name === 'start' || e.node_name === 'playbook')
      .map((e) => e.event_type);
    expect(start.slice(0, 7)).toEqual([
      'playbook_started',
      'step.enter',
      'command.issued',
      'command.claimed',
      'command.started',
      'call.done',
      'command.completed',
    ]);
    expect(events.body.events.at(-1)?.event_type).toBe('playbook.completed');
    const detail = await server.get<Record<string, unknown>>(`/api/executions/${id}`);
    expect(detail.body).toMatchObject({ execution_id: id, status: 'COMPLETED' });
    expect(String(detail.body['started_at'])).toMatch(/\.\d{3}/);
    expect(String(detail.body['completed_at'])).toMatch(/\.\d{3}/);
  });

  it('a failing step fails the execution with its error, the same way', async () => {
    const yaml = `apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: failing, path: tests/failing }
workflow:
  - step: start
    tool: { kind: python, code: "raise RuntimeError('boom')" }
`;
    const path = await server.register(yaml);
    const started = await server.post<{ execution_id: string }>('/api/execute', { path });
    const status = await server.waitFor(started.body.execution_id);
    expect(status['status']).toBe('FAILED');
    expect(String(status['error'])).toContain('RuntimeError: boom');
  });

  it('returns the first execution for a repeated idempotency key', async () => {
    const path = await server.register(readFileSync(join(OWN, 'implicit_end.yaml'), 'utf8'));
    const a = await server.post<{ execution_id: string; status: string }>('/api/execute', {
      path,
      dedup: { key: 'k-1', window_secs: 60 },
    });
    const b = await server.post<{ execution_id: string; status: string }>('/api/execute', {
      path,
      dedup: { key: 'k-1', window_secs: 60 },
    });
    expect(a.body.status).toBe('started');
    expect(b.body).toMatchObject({ execution_id: a.body.execution_id, status: 'duplicate' });
  });

  it('reruns a failed execution from the failed step, reusing completed results', async () => {
    const marker = join(mkdtempSync(join(seedDir, 'rerun-')), 'ok');
    const yaml = `apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: rerun, path: tests/rerun }
workload: { marker: "${marker}" }
workflow:
  - step: start
    tool: { kind: python, code: "import random\\nresult = {'token': random.random()}" }
    next: [ flaky ]
  - step: flaky
    tool:
      kind: python
      input: { marker: "{{ marker }}" }
      code: |
        import os
        if not os.path.exists(marker):
            raise RuntimeError('not yet')
        result = {'ok': True}
    next: [ end ]
  - step: end
    tool: { kind: noop, result: "{{ start.token }}" }
`;
    const path = await server.register(yaml);
    const first = await server.post<{ execution_id: string }>('/api/execute', { path });
    expect((await server.waitFor(first.body.execution_id))['status']).toBe('FAILED');
    writeFileSync(marker, 'x');
    const again = await server.post<{ execution_id: string; status: string }>(
      `/api/executions/${first.body.execution_id}/rerun`,
      {},
    );
    expect(again.status).toBe(200);
    expect((await server.waitFor(again.body.execution_id))['status']).toBe('COMPLETED');
    const a = await server.get<{ step_results: Record<string, unknown> }>(
      `/api/executions/${first.body.execution_id}/result`,
    );
    const b = await server.get<{ step_results: Record<string, unknown> }>(
      `/api/executions/${again.body.execution_id}/result`,
    );
    expect(b.body.step_results['start']).toEqual(a.body.step_results['start']);
    expect(b.body.step_results['end']).toBe((a.body.step_results['start'] as { token: number }).token);
  });

  it('cancels a running execution and refuses claims of its commands', async () => {
    const yaml = `apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: slow, path: tests/slow }
workflow:
  - step: start
    tool: { kind: shell, command: "sleep 2" }
    next: [ end ]
  - step: end
    tool: { kind: noop }
`;
    const path = await server.register(yaml);
    const started = await server.post<{ execution_id: string }>('/api/execute', { path });
    const cancel = await server.post(`/api/executions/${started.body.execution_id}/cancel`, {
      reason: 'test',
    });
    expect(cancel.status).toBe(200);
    const status = await server.waitFor(started.body.execution_id);
    expect(status['status']).toBe('CANCELLED');
    const again = await server.post(`/api/executions/${started.body.execution_id}/cancel`, {});
    expect(again.status).toBe(409);
  });

  it('answers unknown ids and bad bodies with 4xx JSON', async () => {
    const cases: [string, string, unknown, number][] = [
      ['GET', '/api/executions/123456789', undefined, 404],
      ['GET', '/api/executions/not-a-number', undefined, 400],
      ['GET', '/api/executions/123/status', undefined, 404],
      ['POST', '/api/execute', { path: 'no/such/playbook' }, 404],
      ['POST', '/api/execute', { path: 5 }, 400],
      ['POST', '/api/execute', {}, 400],
      ['POST', '/api/events', { execution_id: '123', event_type: 'command.completed', payload: {} }, 404],
      ['POST', '/api/events', { execution_id: 'abc', event_type: 'x' }, 400],
      ['POST', '/api/commands/999/claim', { worker_id: 'w' }, 404],
      ['POST', '/api/commands/999/claim', {}, 400],
      ['POST', '/api/executions/123/cancel', {}, 404],
      ['POST', '/api/executions/123/finalize', { status: 'DONE' }, 400],
    ];
    for (const [method, path, body, expected] of cases) {
      const r = method === 'GET' ? await server.get(path) : await server.post(path, body);
      expect({ method, path, status: r.status }).toEqual({ method, path, status: expected });
      expect(r.body).toMatchObject({ status: expected, code: expect.any(String), error: expect.any(String) });
    }
  });
});

describe.skipIf(skipUpstream('test/server/orchestration.test.ts'))(
  'upstream playbooks through the embedded server',
  () => {
    it.each([
      ['hello_world.yaml', {}],
      ['loop_test.yaml', {}],
      ['loop_instance_isolation.yaml', {}],
      ['control_flow_workbook.yaml', {}],
      ['vars_simple.yaml', {}],
      ['end_with_action.yaml', {}],
      ['implicit_end_routing.yaml', {}],
      ['fanout_reduce.yaml', {}],
      ['local/conditional_flow.yaml', {}],
    ] as const)('%s gives the same outcome as noetl run', async (file, payload) => {
      const [remote, local] = await Promise.all([viaApi(file, payload), viaLocal(file, payload)]);
      expect(local.status).toBe('COMPLETED');
      expect(remote.status).toBe(local.status);
      expect(remote.step_results).toEqual(local.step_results);
    });

    it('pagination_cursor and http_pagination_v2 against a local fake API', async () => {
      for (const file of ['pagination_cursor.yaml', 'http_pagination_v2.yaml']) {
        const payload = { api_url: api.url };
        const [remote, local] = await Promise.all([viaApi(file, payload), viaLocal(file, payload)]);
        expect(remote.status).toBe('COMPLETED');
        expect(remote.status).toBe(local.status);
      }
    });

    it('python_retry_exception completes after retries', async () => {
      const remote = await viaApi('python_retry_exception.yaml');
      expect(remote.status).toBe('COMPLETED');
      expect(remote.step_results['start']).toMatchObject({ success: true, data: { value: 80 } });
    });
  },
);
