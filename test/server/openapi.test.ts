/**
 * The OpenAPI document of the whole server (every plugin registered, as `noetl server start`
 * builds it): valid per an OpenAPI validator, every registered route in it with its error answers,
 * and `/docs` served by Swagger UI (@fastify/swagger-ui) with public static files while the
 * document itself follows the API token.
 */
import { compileErrors, validate } from '@readme/openapi-parser';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compilePendingSchemas } from '../../src/server/lazy-schemas.js';
import { startTestServer, type RunningServer } from '../helpers/embedded-server.js';

interface Operation {
  requestBody?: { content?: Record<string, { schema?: unknown }> };
  responses?: Record<string, { $ref?: string; description?: string }>;
}
interface OpenApiDoc {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components?: { responses?: Record<string, unknown>; schemas?: Record<string, unknown> };
}

/**
 * Every `METHOD /pattern` registered on the app without a wildcard, read from `printRoutes` (a
 * radix tree: each line is a path fragment continuing its parent, four columns per level, with its
 * methods in parentheses). Wildcard routes print as a bare `*` whatever their prefix, so they are
 * left out here; the document's own wildcard routes are checked with `hasRoute`.
 */
function registeredRoutes(app: FastifyInstance): string[] {
  const out: string[] = [];
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^([\s│]*)[└├]── (.*?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (m === null) continue;
    const depth = (m[1] ?? '').length / 4;
    stack.length = depth;
    const parent = stack.join('');
    const fragment = m[2] ?? '';
    const full = parent + fragment; // a radix tree: a child continues its parent's text
    stack.push(fragment);
    if (full.includes('*')) continue;
    for (const method of (m[3] ?? '')
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean))
      out.push(`${method} ${full}`);
  }
  return out;
}

/** Served outside the document on purpose: the web UI, the docs themselves, HEAD twins of GETs. */
function undocumentedByDesign(route: string): boolean {
  const [method, path = ''] = route.split(' ');
  return method === 'HEAD' || path === '/' || path === '/openapi.json' || path.startsWith('/docs');
}

/** Answers that are not JSON: Prometheus text and server-sent event streams. */
const NOT_JSON: readonly string[] = [
  'GET /metrics',
  'GET /api/events/stream',
  'GET /api/executions/{id}/stream',
];

/** Routes whose success answer is not declared in the wire model yet. */
const NOT_YET_DECLARED: readonly string[] = [];

const toOpenApiPath = (p: string) => p.replace(/:([A-Za-z0-9_]+)/g, '{$1}').replace(/\*$/, '{*}');

let server: RunningServer;
let app: FastifyInstance;
let doc: OpenApiDoc;

beforeAll(async () => {
  server = await startTestServer();
  app = server.handle.app;
  const res = await app.inject({ method: 'GET', url: '/openapi.json' });
  expect(res.statusCode).toBe(200);
  doc = JSON.parse(res.body) as OpenApiDoc;
}, 120_000);

afterAll(async () => {
  await server?.stop();
});

describe('OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document (every $ref resolves)', async () => {
    expect(doc.openapi).toBe('3.1.0');
    const result = await validate(structuredClone(doc) as never);
    expect(result.valid ? '' : compileErrors(result)).toBe('');
    expect(result.valid).toBe(true);
  });

  it('compiles the request and response schema of every route (compiled lazily in a server)', () => {
    // a schema ajv or fast-json-stringify cannot compile fails here, not on a first request
    const compiled = compilePendingSchemas(app);
    expect(compiled).toBeGreaterThan(50);
    expect(compilePendingSchemas(app)).toBe(0);
  });

  it('documents every registered route, and nothing that is not registered', () => {
    const registered = registeredRoutes(app);
    expect(registered).toContain('POST /api/catalog/register');
    expect(registered).toContain('GET /api/executions/:id/cancellation-check');
    const documented = new Set<string>();
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const method of Object.keys(item)) documented.add(`${method.toUpperCase()} ${path}`);
    }
    const missing = registered
      .filter((r) => !undocumentedByDesign(r))
      .map((r) => {
        const [method, path = ''] = r.split(' ');
        return `${method ?? ''} ${toOpenApiPath(path)}`;
      })
      .filter((r) => !documented.has(r));
    expect(missing).toEqual([]);
    for (const route of documented) {
      const [method, path = ''] = route.split(' ');
      const url = path.replace(/\{\*\}$/, '*').replace(/\{([A-Za-z0-9_]+)\}/g, ':$1');
      expect(app.hasRoute({ method: method as 'GET', url }), route).toBe(true);
    }
    expect(documented.size).toBeGreaterThan(50);
  });

  it('gives every operation a success answer and the shared error answer', () => {
    const errorSchema = doc.components?.schemas?.['Error'] as { required?: string[] } | undefined;
    expect(errorSchema?.required).toEqual(['error', 'status', 'code']);
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        const codes = Object.keys(op.responses ?? {});
        expect(
          codes.some((c) => c.startsWith('2')),
          `${method} ${path} success`,
        ).toBe(true);
        for (const code of ['400', '404', '500']) {
          expect(op.responses?.[code]?.$ref, `${method} ${path} ${code}`).toBe(
            '#/components/responses/Error',
          );
        }
      }
    }
  });

  it('declares the JSON answer of every route from the wire model, but the ones listed as not yet', () => {
    const undeclared: string[] = [];
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        const ok = Object.entries(op.responses ?? {}).find(([code]) => code.startsWith('2'))?.[1] as
          { content?: Record<string, { schema?: unknown }> } | undefined;
        if (ok?.content?.['application/json']?.schema === undefined)
          undeclared.push(`${method.toUpperCase()} ${path}`);
      }
    }
    // What is left to declare in src/shared/wire.ts (docs/architecture.md, "One model"). A route
    // that gains a response schema leaves this list; a new route without one fails here.
    expect(undeclared.filter((r) => !NOT_JSON.includes(r)).sort()).toEqual([...NOT_YET_DECLARED].sort());
  });

  it('documents the JSON request body of every write route that reads one', () => {
    for (const route of ['/api/catalog/register', '/api/execute', '/api/events', '/api/credentials']) {
      expect(
        doc.paths[route]?.['post']?.requestBody?.content?.['application/json']?.schema,
        route,
      ).toBeDefined();
    }
  });
});

describe('/docs (Swagger UI)', () => {
  it('serves the Swagger UI page, its script and its document', async () => {
    const page = await app.inject({ method: 'GET', url: '/docs' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.body).toContain('swagger-ui-bundle.js');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    const bundle = await app.inject({ method: 'GET', url: '/docs/static/swagger-ui-bundle.js' });
    expect(bundle.statusCode).toBe(200);
    expect(bundle.headers['content-type']).toContain('javascript');
    expect(bundle.body).toContain('SwaggerUIBundle');
    const init = await app.inject({ method: 'GET', url: '/docs/static/swagger-initializer.js' });
    expect(init.body).toContain('noetl.token');
    const json = await app.inject({ method: 'GET', url: '/docs/json' });
    expect((JSON.parse(json.body) as OpenApiDoc).paths).toEqual(doc.paths);
  });

  it('is not taken by the web UI fallback', async () => {
    const res = await app.inject({ method: 'GET', url: '/docs/static/no-such-file.js' });
    expect(res.statusCode).toBe(404);
    expect(res.body).not.toMatch(/<html/i);
  });
});

describe('/docs with an API token set', () => {
  let secured: RunningServer;
  beforeAll(async () => {
    secured = await startTestServer({ NOETL_API_TOKEN: 'docs-token-1' });
  }, 120_000);
  afterAll(async () => {
    await secured?.stop();
  });

  it('serves the page and its static files without the token', async () => {
    for (const url of ['/docs', '/docs/static/swagger-ui-bundle.js', '/docs/static/swagger-initializer.js']) {
      const res = await secured.handle.app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(200);
    }
  });

  it('keeps the document behind the token', async () => {
    for (const url of ['/openapi.json', '/docs/json', '/docs/yaml']) {
      const without = await secured.handle.app.inject({ method: 'GET', url });
      expect(without.statusCode, url).toBe(401);
      expect(JSON.parse(without.body)).toMatchObject({ code: 'UNAUTHORIZED' });
      const wrong = await secured.handle.app.inject({
        method: 'GET',
        url,
        headers: { authorization: 'Bearer x' },
      });
      expect(wrong.statusCode, url).toBe(403);
      const ok = await secured.handle.app.inject({
        method: 'GET',
        url,
        headers: { authorization: 'Bearer docs-token-1' },
      });
      expect(ok.statusCode, url).toBe(200);
    }
    const doc2 = JSON.parse(
      (
        await secured.handle.app.inject({
          method: 'GET',
          url: '/openapi.json',
          headers: { authorization: 'Bearer docs-token-1' },
        })
      ).body,
    ) as OpenApiDoc;
    expect(doc2.paths['/api/catalog/list']?.['post']?.responses?.['401']?.$ref).toBe(
      '#/components/responses/Error',
    );
  });
});
