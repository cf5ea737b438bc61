/**
 * The web UI's static files (issue 13): index.html for `/` and client-side routes, hashed assets
 * with long caching, a strict CSP, no token needed for them while the API keeps needing it.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgliteBackend, startTestServer, type TestBackend, type TestServer } from '../helpers/server-app.js';

const INDEX =
  '<!doctype html><html><head><script type="module" src="/assets/app-3f2a1b.js"></script></head><body></body></html>';
const ui = mkdtempSync(join(tmpdir(), 'noetl-ui-'));
mkdirSync(join(ui, 'assets'));
writeFileSync(join(ui, 'index.html'), INDEX);
writeFileSync(join(ui, 'assets', 'app-3f2a1b.js'), 'console.log("noetl");\n');

let backend: TestBackend;
let open: TestServer;
let locked: TestServer;
let unbuilt: TestServer;

beforeAll(async () => {
  backend = await pgliteBackend();
  open = await startTestServer(backend, { deps: { uiDir: ui } });
  locked = await startTestServer(backend, { deps: { uiDir: ui }, env: { NOETL_API_TOKEN: 'sesame' } });
  unbuilt = await startTestServer(backend, { deps: { uiDir: join(ui, 'missing') } });
}, 60_000);

afterAll(async () => {
  await open?.close();
  await locked?.close();
  await unbuilt?.close();
  await backend?.dispose();
  rmSync(ui, { recursive: true, force: true });
});

describe('web UI static files', () => {
  it('serves index.html at / with a strict CSP and no caching', async () => {
    const r = await open.app.inject({ method: 'GET', url: '/' });
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/html/);
    expect(r.body).toBe(INDEX);
    expect(r.headers['cache-control']).toBe('no-cache');
    const csp = String(r.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(r.headers['x-content-type-options']).toBe('nosniff');
  });

  it('answers deep links with index.html', async () => {
    for (const url of ['/executions/123', '/catalog/examples/hello?version=2', '/credentials']) {
      const r = await open.app.inject({ method: 'GET', url });
      expect(r.statusCode, url).toBe(200);
      expect(r.body, url).toBe(INDEX);
    }
  });

  it('serves hashed assets with a long immutable cache', async () => {
    const r = await open.app.inject({ method: 'GET', url: '/assets/app-3f2a1b.js' });
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toMatch(/javascript/);
    expect(r.body).toBe('console.log("noetl");\n');
    expect(r.headers['cache-control']).toContain('immutable');
    expect(r.headers['cache-control']).toContain('max-age=31536000');
    expect(r.headers['x-content-type-options']).toBe('nosniff');
  });

  it('answers 404 for an unknown asset, an unknown API route and a path outside the UI', async () => {
    expect((await open.app.inject({ method: 'GET', url: '/assets/nope.js' })).statusCode).toBe(404);
    const api = await open.app.inject({ method: 'GET', url: '/api/nope' });
    expect(api.statusCode).toBe(404);
    expect(api.json()).toMatchObject({ code: 'NOT_FOUND' });
    for (const url of [
      '/assets/../index.html',
      '/assets/%2e%2e/%2e%2e/package.json',
      '/assets/..%2f..%2fpackage.json',
    ]) {
      const r = await open.app.inject({ method: 'GET', url });
      expect(r.body, url).not.toContain('"name": "noetl"');
    }
    expect((await open.app.inject({ method: 'POST', url: '/executions/1' })).statusCode).toBe(404);
  });

  it('needs no token for the UI files while the API and unknown API routes still do', async () => {
    expect((await locked.app.inject({ method: 'GET', url: '/' })).statusCode).toBe(200);
    expect((await locked.app.inject({ method: 'GET', url: '/executions/5' })).statusCode).toBe(200);
    expect((await locked.app.inject({ method: 'GET', url: '/assets/app-3f2a1b.js' })).statusCode).toBe(200);
    expect((await locked.app.inject({ method: 'GET', url: '/api/executions' })).statusCode).toBe(401);
    expect((await locked.app.inject({ method: 'GET', url: '/api/nope' })).statusCode).toBe(401);
    expect((await locked.app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(401);
    // near misses of the API prefixes are probes, not pages
    for (const url of ['/apix', '/api', '/healthz', '/metrics2', '/docs/x']) {
      expect((await locked.app.inject({ method: 'GET', url })).statusCode, url).toBe(401);
    }
    const wrong = await locked.app.inject({
      method: 'GET',
      url: '/api/nope',
      headers: { authorization: 'Bearer wrong' },
    });
    expect(wrong.statusCode).toBe(403);
    const right = await locked.app.inject({
      method: 'GET',
      url: '/api/nope',
      headers: { authorization: 'Bearer sesame' },
    });
    expect(right.statusCode).toBe(404);
  });

  it('says the UI is not built when dist/ui is missing', async () => {
    const r = await unbuilt.app.inject({ method: 'GET', url: '/' });
    expect(r.statusCode).toBe(200);
    expect(r.body).toContain('npm run build');
    expect(r.headers['content-security-policy']).toBeDefined();
    expect((await unbuilt.app.inject({ method: 'GET', url: '/assets/app.js' })).statusCode).toBe(404);
  });
});
