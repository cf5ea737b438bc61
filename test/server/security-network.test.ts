/**
 * Safe defaults of the HTTP surface (issue 10 item 1, DESIGN.md section 7): a web page cannot
 * register or execute anything (JSON bodies only, foreign origins refused, no CORS unless
 * listed), DNS rebinding is refused by the Host allow-list, routes flagged `public` are the only
 * ones open once a token is set, and a non-loopback server gets a token file it requires.
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryBus } from '../../src/bus/index.js';
import { loadServerConfig } from '../../src/config/index.js';
import { resolveApiToken } from '../../src/server/api-token.js';
import { startServer } from '../../src/server/main.js';
import { Orchestrator } from '../../src/server/orchestrator/orchestrator.js';
import { orchestrationRoutes } from '../../src/server/routes/orchestration.js';
import { createServerLogger } from '../../src/server/index.js';
import { silentLogger, SnowflakeIdGenerator, systemClock } from '../../src/shared/index.js';
import { templates } from '../../src/template/index.js';
import { pgliteBackend, startTestServer, type TestBackend, type TestServer } from '../helpers/server-app.js';

const PLAYBOOK = `apiVersion: noetl.io/v2
kind: Playbook
metadata:
  name: pwned
  path: evil/pwned
workflow:
  - step: start
    tool: { kind: shell, cmd: "touch /tmp/noetl-pwned" }
    next: [{ step: end }]
  - step: end
    tool: { kind: noop }
`;

let backend: TestBackend;
const bus = new MemoryBus();

function plugins(): FastifyPluginAsync[] {
  const orchestrator = new Orchestrator({
    store: backend.store,
    bus,
    ids: new SnowflakeIdGenerator(systemClock),
    clock: systemClock,
    templates: templates(),
    logger: silentLogger,
    serverUrl: 'http://127.0.0.1:1',
  });
  // Two routes of another part, flagged the way the web UI's static files and a webhook are.
  const extra: FastifyPluginAsync = async (app) => {
    app.get('/assets/app.js', { config: { public: true } }, (_request, reply) => {
      void reply.send('console.log(1)');
    });
    app.post('/api/test-ingress', { config: { rawBody: true } }, (request, reply) => {
      void reply.send({ bytes: Buffer.isBuffer(request.body) ? request.body.length : -1 });
    });
    await Promise.resolve();
  };
  return [orchestrationRoutes({ orchestrator, store: backend.store }), extra];
}

async function server(env: Record<string, string> = {}): Promise<TestServer> {
  return startTestServer(backend, { env, plugins: plugins() });
}

beforeAll(async () => {
  backend = await pgliteBackend();
}, 120_000);

afterAll(async () => {
  await bus.close();
  await backend?.dispose();
});

describe('a web page cannot drive the server', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await server();
  });
  afterAll(async () => s?.close());

  const registerBody = JSON.stringify({ content: PLAYBOOK });
  const executeBody = JSON.stringify({ path: 'evil/pwned' });

  it('refuses a cross-site text/plain POST of a playbook, and nothing is registered or run', async () => {
    for (const url of ['/api/catalog/register', '/api/execute']) {
      const res = await s.app.inject({
        method: 'POST',
        url,
        headers: { host: 'localhost:8082', origin: 'http://evil.example', 'content-type': 'text/plain' },
        payload: url === '/api/execute' ? executeBody : registerBody,
      });
      expect(res.statusCode, res.body).toBe(403);
      expect(res.json()).toMatchObject({ code: 'FORBIDDEN', status: 403 });
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
    }
    // Even without an Origin (a client that hides it), bodies a form can send are not read.
    const simple = [
      ['text/plain', registerBody],
      ['text/plain;charset=UTF-8', registerBody],
      ['application/x-www-form-urlencoded', registerBody],
      [
        'multipart/form-data; boundary=x',
        `--x\r\nContent-Disposition: form-data; name="a"\r\n\r\n${registerBody}\r\n--x--\r\n`,
      ],
    ] as const;
    for (const [type, payload] of simple) {
      for (const url of ['/api/catalog/register', '/api/execute']) {
        const res = await s.app.inject({ method: 'POST', url, headers: { 'content-type': type }, payload });
        expect({ type, url, status: res.statusCode }).toEqual({ type, url, status: 415 });
        expect(res.json()).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE', status: 415 });
      }
    }
    const list = await s.app.inject({ method: 'POST', url: '/api/catalog/list', payload: {} });
    expect(list.json<{ entries: unknown[] }>().entries).toEqual([]);
    const executions = await s.app.inject({ method: 'GET', url: '/api/executions' });
    expect(executions.statusCode).toBe(200);
    expect(JSON.stringify(executions.json())).not.toContain('evil/pwned');
  });

  it('refuses any request from a foreign origin, even a bodiless POST or a GET', async () => {
    for (const [method, url] of [
      ['POST', '/api/db/init'],
      ['GET', '/api/credentials'],
      ['POST', '/api/executions/1/cancel'],
    ] as const) {
      const res = await s.app.inject({ method, url, headers: { origin: 'http://evil.example' } });
      expect({ url, status: res.statusCode }).toEqual({ url, status: 403 });
    }
    const nullOrigin = await s.app.inject({
      method: 'GET',
      url: '/api/credentials',
      headers: { origin: 'null' },
    });
    expect(nullOrigin.statusCode).toBe(403);
  });

  it('serves its own origin (the web UI) and JSON bodies', async () => {
    const res = await s.app.inject({
      method: 'POST',
      url: '/api/catalog/list',
      headers: {
        host: 'localhost:8082',
        origin: 'http://localhost:8082',
        'content-type': 'application/json',
      },
      payload: '{}',
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    const reg = await s.app.inject({
      method: 'POST',
      url: '/api/catalog/register',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      payload: JSON.stringify({ content: PLAYBOOK.replace('evil/pwned', 'ok/fine') }),
    });
    expect(reg.statusCode, reg.body).toBe(200);
  });

  it('answers no CORS preflight unless the origin is listed', async () => {
    const pre = await s.app.inject({
      method: 'OPTIONS',
      url: '/api/catalog/register',
      headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(pre.statusCode).toBe(403);
    expect(pre.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('lets a route take raw bodies of any type when it asks (rawBody)', async () => {
    const res = await s.app.inject({
      method: 'POST',
      url: '/api/test-ingress',
      headers: { 'content-type': 'text/plain' },
      payload: 'hello',
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ bytes: 5 });
  });
});

describe('listed CORS origins', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await server({ NOETL_CORS_ORIGINS: 'https://ui.example:8443' });
  });
  afterAll(async () => s?.close());

  it('echoes a listed origin and answers its preflight, and no other', async () => {
    const pre = await s.app.inject({
      method: 'OPTIONS',
      url: '/api/catalog/list',
      headers: {
        origin: 'https://ui.example:8443',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,authorization',
      },
    });
    expect(pre.statusCode).toBe(204);
    expect(pre.headers['access-control-allow-origin']).toBe('https://ui.example:8443');
    expect(pre.headers['access-control-allow-methods']).toContain('POST');
    expect(pre.headers['access-control-allow-headers']).toContain('authorization');
    const res = await s.app.inject({
      method: 'POST',
      url: '/api/catalog/list',
      headers: { origin: 'https://ui.example:8443', 'content-type': 'application/json' },
      payload: '{}',
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBe('https://ui.example:8443');
    expect(res.headers['vary']).toContain('Origin');
    for (const origin of ['https://ui.example', 'http://ui.example:8443', 'https://evil.example']) {
      const other = await s.app.inject({
        method: 'OPTIONS',
        url: '/api/catalog/list',
        headers: { origin, 'access-control-request-method': 'POST' },
      });
      expect({ origin, status: other.statusCode }).toEqual({ origin, status: 403 });
      expect(other.headers['access-control-allow-origin']).toBeUndefined();
    }
  });
});

describe('Host allow-list (DNS rebinding)', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await server({ NOETL_ALLOWED_HOSTS: 'noetl.lan' });
  });
  afterAll(async () => s?.close());

  it('serves loopback names and configured ones on any port, and refuses others with 403', async () => {
    for (const host of [
      'localhost:8082',
      '127.0.0.1:8082',
      '[::1]:8082',
      'localhost',
      'LOCALHOST:1',
      'noetl.lan:9',
    ]) {
      const res = await s.app.inject({ method: 'GET', url: '/api/credentials', headers: { host } });
      expect({ host, status: res.statusCode }).toEqual({ host, status: 200 });
    }
    for (const host of [
      'evil.example:8082',
      'evil.example',
      'localhost.evil.example',
      '127.0.0.1.nip.io:8082',
    ]) {
      for (const url of ['/api/credentials', '/health', '/assets/app.js']) {
        const res = await s.app.inject({ method: 'GET', url, headers: { host } });
        expect({ host, url, status: res.statusCode }).toEqual({ host, url, status: 403 });
        expect(res.json()).toMatchObject({ code: 'FORBIDDEN' });
      }
    }
    // a rebound page is same-origin with itself: the Host check is what stops it
    const rebound = await s.app.inject({
      method: 'POST',
      url: '/api/catalog/register',
      headers: {
        host: 'evil.example:8082',
        origin: 'http://evil.example:8082',
        'content-type': 'application/json',
      },
      payload: JSON.stringify({ content: PLAYBOOK }),
    });
    expect(rebound.statusCode).toBe(403);
  });

  it('does not restrict Host on a non-loopback address with a token unless configured', async () => {
    const open = await server({ NOETL_HOST: '0.0.0.0', NOETL_API_TOKEN: 'tok-0123456789abcdef' });
    try {
      const auth = { authorization: 'Bearer tok-0123456789abcdef' };
      const res = await open.app.inject({
        method: 'GET',
        url: '/api/credentials',
        headers: { host: 'noetl.example.com', ...auth },
      });
      expect(res.statusCode).toBe(200);
      const anon = await open.app.inject({
        method: 'GET',
        url: '/api/credentials',
        headers: { host: 'noetl.example.com' },
      });
      expect(anon.statusCode).toBe(401);
    } finally {
      await open.close();
    }
    const listed = await server({
      NOETL_HOST: '0.0.0.0',
      NOETL_API_TOKEN: 'tok',
      NOETL_ALLOWED_HOSTS: 'noetl.example.com',
    });
    try {
      const auth = { authorization: 'Bearer tok' };
      expect(
        (
          await listed.app.inject({
            method: 'GET',
            url: '/api/credentials',
            headers: { host: 'other.example', ...auth },
          })
        ).statusCode,
      ).toBe(403);
      expect(
        (
          await listed.app.inject({
            method: 'GET',
            url: '/api/credentials',
            headers: { host: 'noetl.example.com', ...auth },
          })
        ).statusCode,
      ).toBe(200);
    } finally {
      await listed.close();
    }
  });
});

describe('public routes once a token is set', () => {
  it('opens health and routes flagged public, and nothing else (unknown URLs included)', async () => {
    const s = await server({ NOETL_API_TOKEN: 'api-secret-token' });
    try {
      expect((await s.app.inject({ method: 'GET', url: '/api/health' })).statusCode).toBe(200);
      expect((await s.app.inject({ method: 'GET', url: '/assets/app.js' })).statusCode).toBe(200);
      for (const [method, url] of [
        ['GET', '/api/credentials'],
        ['GET', '/api/nothing/here'],
        ['DELETE', '/api/health'],
        ['OPTIONS', '/api/catalog/list'],
        ['POST', '/api/test-ingress'],
      ] as const) {
        const res = await s.app.inject({ method, url });
        expect({ method, url, status: res.statusCode }).toEqual({ method, url, status: 401 });
      }
    } finally {
      await s.close();
    }
  });
});

describe('the API token of a server beyond loopback', () => {
  const lines: string[] = [];
  const logger = createServerLogger({ level: 'info', destination: { write: (l: string) => lines.push(l) } });
  let home: string;
  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'noetl-token-'));
  });
  afterAll(async () => rm(home, { recursive: true, force: true }));

  it('is generated into $NOETL_HOME/api-token with mode 0600, once, and never logged', async () => {
    const config = loadServerConfig({ env: { NOETL_HOME: home, NOETL_HOST: '0.0.0.0' } });
    const first = await resolveApiToken(config, logger);
    expect(first.source).toBe('generated');
    const token = first.config.apiToken ?? '';
    expect(token.length).toBeGreaterThanOrEqual(40);
    const file = join(home, 'api-token');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await readFile(file, 'utf8')).trim()).toBe(token);
    const second = await resolveApiToken(config, logger);
    expect(second).toMatchObject({ source: 'file', config: { apiToken: token } });
    expect(lines.join('\n')).not.toContain(token);
    // a given token wins, loopback needs none
    const given = loadServerConfig({
      env: { NOETL_HOME: home, NOETL_HOST: '0.0.0.0', NOETL_API_TOKEN: 'given' },
    });
    expect((await resolveApiToken(given, logger)).config.apiToken).toBe('given');
    const local = loadServerConfig({ env: { NOETL_HOME: home } });
    expect((await resolveApiToken(local, logger)).config.apiToken).toBeUndefined();
  });

  it('is not made with --insecure, which logs a warning', async () => {
    const insecureHome = await mkdtemp(join(tmpdir(), 'noetl-insecure-'));
    try {
      lines.length = 0;
      const config = loadServerConfig({
        flags: { NOETL_INSECURE: 'true' },
        env: { NOETL_HOME: insecureHome, NOETL_HOST: '0.0.0.0' },
      });
      const r = await resolveApiToken(config, logger);
      expect(r).toMatchObject({ source: 'none-insecure' });
      expect(r.config.apiToken).toBeUndefined();
      await expect(stat(join(insecureHome, 'api-token'))).rejects.toMatchObject({ code: 'ENOENT' });
      const warning = lines
        .map((l) => JSON.parse(l) as { level: string | number; msg: string })
        .find((l) => /INSECURE/.test(l.msg));
      expect(warning).toBeDefined();
      expect(String(warning?.level)).toMatch(/^(warn|40)$/);
    } finally {
      await rm(insecureHome, { recursive: true, force: true });
    }
  });
});

describe('a started server', () => {
  it('listens on 127.0.0.1 by default', { timeout: 120_000 }, async () => {
    const home = await mkdtemp(join(tmpdir(), 'noetl-bind-'));
    const handle = await startServer(
      loadServerConfig({
        env: { NOETL_HOME: home, NOETL_PORT: '0', NOETL_LOG_LEVEL: 'silent', NOETL_EMBEDDED_WORKERS: '0' },
      }),
    );
    try {
      const address = handle.app.server.address();
      expect(address).toMatchObject({ address: '127.0.0.1' });
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      const ok = await fetch(`http://127.0.0.1:${port}/api/catalog/list`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      expect(ok.status).toBe(200);
      // fetch cannot set Host: a raw request as a rebound browser sends it
      const rebound = await new Promise<number>((resolve, reject) => {
        const req = request(
          {
            host: '127.0.0.1',
            port,
            method: 'GET',
            path: '/api/credentials',
            headers: { host: `evil.example:${port}` },
          },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        req.end();
      });
      expect(rebound).toBe(403);
    } finally {
      await handle.stop();
      await rm(home, { recursive: true, force: true });
    }
  });
});
