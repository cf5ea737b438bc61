/**
 * `/metrics` of a real embedded server (PGlite, in-process bus and worker) after playbooks ran:
 * executions by path and status, step durations by tool kind, open commands, event-append
 * latency and HTTP durations by route pattern (docs/observability.md).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type RunningServer } from '../helpers/embedded-server.js';

/** `name{labels} value` lines of the exposition text, as label text -> value. */
function samples(text: string, name: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(\{[^}]*\})? (\S+)$/.exec(line);
    if (m && m[1] === name) out.set(m[2] ?? '', Number(m[3]));
  }
  return out;
}

async function scrape(server: RunningServer): Promise<string> {
  const res = await fetch(`${server.url}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain');
  return res.text();
}

const OK = `apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: metrics-ok, path: tests/metrics/ok }
workflow:
  - step: start
    tool: { kind: python, code: "result = {'n': 1}" }
    next: [{ step: end }]
  - step: end
    tool: { kind: noop }
`;

const FAILING = `apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: metrics-failing, path: tests/metrics/failing }
workflow:
  - step: start
    tool: { kind: python, code: "raise RuntimeError('boom')" }
`;

describe('metrics of a server that ran playbooks', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startTestServer({ NOETL_EMBEDDED_WORKERS: '1' });
  }, 120_000);
  afterAll(async () => server?.stop());

  it('counts executions by path and status and times steps by tool kind', { timeout: 120_000 }, async () => {
    for (const [yaml, runs, want] of [
      [OK, 2, 'COMPLETED'],
      [FAILING, 1, 'FAILED'],
    ] as const) {
      const path = await server.register(yaml);
      for (let i = 0; i < runs; i++) {
        const started = await server.post<{ execution_id: string }>('/api/execute', { path });
        expect(started.status).toBe(200);
        expect((await server.waitFor(started.body.execution_id))['status']).toBe(want);
      }
    }
    // completion counts are taken after commit, off the request: give them a moment
    let text = await scrape(server);
    for (let i = 0; i < 50 && !/status="failed"/.test(text); i++) {
      await new Promise((r) => setTimeout(r, 50));
      text = await scrape(server);
    }
    const executions = samples(text, 'noetl_executions_total');
    expect(executions.get('{path="tests/metrics/ok",status="started"}')).toBe(2);
    expect(executions.get('{path="tests/metrics/ok",status="completed"}')).toBe(2);
    expect(executions.get('{path="tests/metrics/failing",status="started"}')).toBe(1);
    expect(executions.get('{path="tests/metrics/failing",status="failed"}')).toBe(1);
    expect(executions.has('{path="tests/metrics/ok",status="failed"}')).toBe(false);

    const steps = samples(text, 'noetl_step_duration_seconds_count');
    expect(steps.get('{kind="python"}')).toBe(3);
    const sums = samples(text, 'noetl_step_duration_seconds_sum');
    expect(sums.get('{kind="python"}')).toBeGreaterThan(0);

    const appends = samples(text, 'noetl_event_append_duration_seconds_count');
    expect(appends.get('')).toBeGreaterThanOrEqual(3 * 2); // execute + each completion at least

    const open = samples(text, 'noetl_commands');
    expect(open.get('{status="pending"}')).toBe(0);
    expect(open.get('{status="claimed"}')).toBe(0);
    expect(open.get('{status="running"}')).toBe(0);

    const http = samples(text, 'noetl_http_request_duration_seconds_count');
    expect(http.get('{method="POST",route="/api/execute",status="200"}')).toBe(3);
    // by route pattern, never the raw URL with its id
    expect([...http.keys()].some((k) => k.includes('route="/api/executions/:'))).toBe(true);
    expect([...http.keys()].some((k) => /route="[^"]*\/\d{6,}/.test(k))).toBe(false);
  });
});

describe('metrics of a server without workers', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startTestServer({ NOETL_EMBEDDED_WORKERS: '0' });
  }, 120_000);
  afterAll(async () => server?.stop());

  it('reports the commands waiting for a worker as pending', { timeout: 60_000 }, async () => {
    const path = await server.register(OK);
    const before = samples(await scrape(server), 'noetl_commands');
    expect(before.get('{status="pending"}')).toBe(0);
    for (let i = 0; i < 2; i++) {
      expect((await server.post('/api/execute', { path })).status).toBe(200);
    }
    const text = await scrape(server);
    expect(samples(text, 'noetl_commands').get('{status="pending"}')).toBe(2);
    expect(samples(text, 'noetl_executions_total').get('{path="tests/metrics/ok",status="started"}')).toBe(2);
  });
});
