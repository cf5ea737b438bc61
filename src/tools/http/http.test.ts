import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { templates } from '../../template/index.js';
import type { ToolContext, ToolServices } from '../types.js';
import { executeHttp } from './execute.js';

let server: Server;
let base = '';

function handle(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const url = new URL(req.url ?? '/', 'http://x');
    const send = (status: number, body: unknown, type = 'application/json'): void => {
      res.writeHead(status, { 'content-type': type });
      res.end(typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body));
    };
    if (url.pathname === '/echo') {
      send(200, {
        method: req.method,
        query: Object.fromEntries([...url.searchParams.keys()].map((k) => [k, url.searchParams.getAll(k)])),
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
    } else if (url.pathname.startsWith('/status/')) {
      send(Number(url.pathname.slice('/status/'.length)), { error: 'nope' });
    } else if (url.pathname === '/text') {
      send(200, 'plain text', 'text/plain');
    } else if (url.pathname === '/json-as-text') {
      send(200, '{"a":1}', 'text/plain');
    } else if (url.pathname === '/bin') {
      send(200, Buffer.from([0, 1, 2, 255]), 'application/octet-stream');
    } else if (url.pathname === '/redirect') {
      res.writeHead(302, { location: '/echo' });
      res.end();
    } else if (url.pathname === '/slow') {
      const t = setTimeout(() => send(200, {}), 5000);
      res.on('close', () => clearTimeout(t));
    } else {
      send(404, { error: 'not found' });
    }
  });
}

beforeAll(async () => {
  server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function ctx(services: ToolServices = {}): ToolContext {
  return {
    executionId: 'e1',
    step: 'h',
    commandId: 'c1',
    label: 'h',
    attempt: 1,
    signal: new AbortController().signal,
    templates: templates(),
    services,
  };
}

interface Echo {
  method: string;
  query: Record<string, string[]>;
  headers: Record<string, string>;
  body: string;
}

async function echo(config: Record<string, unknown>, services: ToolServices = {}): Promise<Echo> {
  const out = await executeHttp(ctx(services), { url: `${base}/echo`, ...config });
  const data = out.data as { status_code: number; data: Echo; body: Echo };
  expect(data.status_code).toBe(200);
  expect(data.body).toEqual(data.data);
  expect(out.extra).toEqual({ http: { status: 200 } });
  return data.data;
}

describe('http tool', () => {
  it('GETs with params (scalars stringified, null dropped, lists repeated, maps as JSON)', async () => {
    const got = await echo({
      params: { a: 1, b: true, c: null, d: ['x', 'y'], e: { k: 1 } },
      headers: { 'X-N': 5 },
    });
    expect(got.method).toBe('GET');
    expect(got.query).toEqual({ a: ['1'], b: ['true'], d: ['x', 'y'], e: ['{"k":1}'] });
    expect(got.headers['x-n']).toBe('5');
  });

  it('POSTs json, raw body and form', async () => {
    const json = await echo({ method: 'post', json: { a: [1, 2] } });
    expect(json).toMatchObject({ method: 'POST', body: '{"a":[1,2]}' });
    expect(json.headers['content-type']).toBe('application/json');
    const obj = await echo({ method: 'PUT', body: { b: 1 } });
    expect(obj.body).toBe('{"b":1}');
    const raw = await echo({ method: 'POST', body: 'raw text', headers: { 'Content-Type': 'text/plain' } });
    expect(raw).toMatchObject({ body: 'raw text' });
    expect(raw.headers['content-type']).toBe('text/plain');
    const form = await echo({ method: 'POST', form: { a: 'x y', n: 2 } });
    expect(form.body).toBe('a=x+y&n=2');
    expect(form.headers['content-type']).toBe('application/x-www-form-urlencoded');
  });

  it('sends bearer, basic and api_key auth, and resolves aliases through the host', async () => {
    expect((await echo({ auth: { type: 'bearer', token: 't0k' } })).headers.authorization).toBe('Bearer t0k');
    expect(
      (await echo({ auth: { type: 'basic', username: 'u', password: 'p' } })).headers.authorization,
    ).toBe(`Basic ${Buffer.from('u:p').toString('base64')}`);
    expect((await echo({ auth: { type: 'api_key', token: 'k', header: 'X-Key' } })).headers['x-key']).toBe(
      'k',
    );
    const services: ToolServices = {
      resolveCredential: (alias) =>
        Promise.resolve({ name: alias, type: 'bearer_token', data: { token: `secret-${alias}` } }),
    };
    expect((await echo({ auth: 'my_api' }, services)).headers.authorization).toBe('Bearer secret-my_api');
    await expect(executeHttp(ctx(), { url: `${base}/echo`, auth: 'my_api' })).rejects.toMatchObject({
      code: 'CREDENTIAL_NOT_FOUND',
    });
    await expect(
      executeHttp(ctx(), { url: `${base}/echo`, auth: { type: 'gcp_adc' } }),
    ).rejects.toMatchObject({
      code: 'CREDENTIAL_UNSUPPORTED',
    });
  });

  it('fails on non-2xx with the response as data, retryable for 429/5xx', async () => {
    const err = await executeHttp(ctx(), { endpoint: `${base}/status/503` }).catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'TOOL_FAILED',
      message: 'HTTP 503 response',
      retryable: true,
      details: { data: { status_code: 503, data: { error: 'nope' } }, extra: { http: { status: 503 } } },
    });
    await expect(executeHttp(ctx(), { url: `${base}/status/404` })).rejects.toMatchObject({
      message: 'HTTP 404 response',
      retryable: false,
    });
  });

  it('parses bodies by response_type', async () => {
    const text = await executeHttp(ctx(), { url: `${base}/text` });
    expect((text.data as { data: unknown }).data).toBe('plain text');
    const parsed = await executeHttp(ctx(), { url: `${base}/json-as-text` });
    expect((parsed.data as { data: unknown }).data).toEqual({ a: 1 });
    const asText = await executeHttp(ctx(), { url: `${base}/json-as-text`, response_type: 'text' });
    expect((asText.data as { data: unknown }).data).toBe('{"a":1}');
    const bin = await executeHttp(ctx(), { url: `${base}/bin`, response_type: 'binary' });
    expect((bin.data as { data: unknown }).data).toEqual({ base64: 'AAEC/w==', size: 4 });
  });

  it('follows redirects unless told not to', async () => {
    const followed = await executeHttp(ctx(), { url: `${base}/redirect` });
    expect((followed.data as { status_code: number }).status_code).toBe(200);
    await expect(
      executeHttp(ctx(), { url: `${base}/redirect`, follow_redirects: false }),
    ).rejects.toMatchObject({
      message: 'HTTP 302 response',
    });
  });

  it('times out, and reports network errors as retryable', async () => {
    await expect(executeHttp(ctx(), { url: `${base}/slow`, timeout_seconds: 0.2 })).rejects.toMatchObject({
      code: 'TOOL_TIMEOUT',
      retryable: true,
    });
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await expect(executeHttp(ctx(), { url: `http://127.0.0.1:${port}/x` })).rejects.toMatchObject({
      code: 'TOOL_FAILED',
      retryable: true,
      message: expect.stringMatching(/ECONNREFUSED/),
    });
  });

  it('rejects bad config with clear messages', async () => {
    await expect(executeHttp(ctx(), {})).rejects.toMatchObject({
      message: "http: 'url' or 'endpoint' is required",
    });
    await expect(executeHttp(ctx(), { url: '/relative' })).rejects.toMatchObject({ message: /absolute URL/ });
    await expect(executeHttp(ctx(), { url: `${base}/echo`, json: { a: 1 } })).rejects.toMatchObject({
      message: /GET request cannot have a body/,
    });
    await expect(executeHttp(ctx(), { url: `${base}/echo`, response_type: 'xml' })).rejects.toMatchObject({
      message: /response_type/,
    });
  });
});
