/**
 * The result store routes (contract 1.12): PUT /api/result/{execution_id} and
 * GET /api/result/resolve, behind the API token, with the 64 MiB limit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESULT_MAX_BYTES } from '../../src/shared/result-ref.js';
import { startTestServer, type RunningServer } from '../helpers/embedded-server.js';

const TOKEN = 'result-store-test-token-0123456789';
let server: RunningServer;
let executionId = '';

async function call(
  method: string,
  path: string,
  body?: unknown,
  token: string | null = TOKEN,
): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      ...(token !== null ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as unknown) : undefined };
}

beforeAll(async () => {
  server = await startTestServer({ NOETL_API_TOKEN: TOKEN });
  const reg = await call('POST', '/api/catalog/register', {
    content: `apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: results_owner, path: tests/results/owner }
workflow:
  - step: start
    tool: { kind: noop }
`,
  });
  expect(reg.status).toBe(200);
  const started = await call('POST', '/api/execute', { path: 'tests/results/owner' });
  executionId = (started.body as { execution_id: string }).execution_id;
}, 120_000);

afterAll(async () => {
  await server?.stop();
});

describe('result store routes', () => {
  it('stores a value and resolves its reference', async () => {
    const put = await call('PUT', `/api/result/${executionId}`, {
      name: 'reports/daily',
      data: { title: 'daily', rows: [1, 2, 3] },
      source_step: 'start',
    });
    expect(put.status).toBe(200);
    const stored = put.body as { ref: string; store: string; scope: string; bytes: number; sha256: string };
    expect(stored).toMatchObject({ store: 'db', scope: 'execution', bytes: 32 });
    expect(stored.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(stored.ref).toMatch(new RegExp(`^noetl://execution/${executionId}/result/reports/daily/\\d+$`));
    const got = await call('GET', `/api/result/resolve?ref=${encodeURIComponent(stored.ref)}`);
    expect(got).toEqual({ status: 200, body: { rows: [1, 2, 3], title: 'daily' } });
  });

  it('needs the API token', async () => {
    expect((await call('PUT', `/api/result/${executionId}`, { name: 'x', data: 1 }, null)).status).toBe(401);
    const ref = `noetl://execution/${executionId}/result/x/1`;
    expect(
      (await call('GET', `/api/result/resolve?ref=${encodeURIComponent(ref)}`, undefined, null)).status,
    ).toBe(401);
  });

  it('answers 400 for a bad name or reference, 404 for what is not there', async () => {
    expect((await call('PUT', `/api/result/${executionId}`, { name: '../up', data: 1 })).status).toBe(400);
    expect((await call('GET', '/api/result/resolve?ref=s3%3A%2F%2Fb%2Fk')).status).toBe(400);
    const missing = `noetl://execution/${executionId}/result/none/1`;
    expect((await call('GET', `/api/result/resolve?ref=${encodeURIComponent(missing)}`)).status).toBe(404);
    expect((await call('PUT', '/api/result/1', { name: 'x', data: 1 })).status).toBe(404);
  });

  it('refuses a value over 64 MiB with 413', async () => {
    const r = await call('PUT', `/api/result/${executionId}`, {
      name: 'big',
      data: 'x'.repeat(RESULT_MAX_BYTES),
    });
    expect(r.status).toBe(413);
    expect(r.body).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
  });
});
