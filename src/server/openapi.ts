import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { errorBody } from './routes/schemas.js';

export interface OpenApiOptions {
  readonly version: string;
  readonly serverUrl?: string;
  /** Whether routes need a bearer token (documents the security scheme). */
  readonly secured: boolean;
}

/** Where Swagger UI is served; its document is `${DOCS_PREFIX}/json` (and `/yaml`). */
export const DOCS_PREFIX = '/docs';

/** Routes of the docs plugin that carry the document: they follow the API token like `/openapi.json`. */
const DOCUMENT_ROUTES: ReadonlySet<string> = new Set([`${DOCS_PREFIX}/json`, `${DOCS_PREFIX}/yaml`]);

/**
 * Swagger UI loads only files of this origin: no inline script, no CDN. Its bundle injects a
 * `<style>` element, hence inline styles (scripts stay `'self'` only; these pages hold no data).
 */
const DOCS_CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Every error of the API has this body (errors.ts). */
const ERROR_RESPONSE = {
  description: 'Error: a stable code and a one-line message',
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
} as const;

type Responses = Record<string, unknown>;

const HTTP_METHODS: ReadonlySet<string> = new Set([
  'get',
  'put',
  'post',
  'delete',
  'patch',
  'head',
  'options',
]);

/**
 * Documents the error answers every operation can give (one handler shapes them all): 400 for bad
 * input, 401/403 when a token is set, 404, 413 for oversized bodies, 500.
 */
function withErrorResponses(responses: Responses | undefined, secured: boolean): Responses {
  const out: Responses = { ...(responses ?? {}) };
  if (!Object.keys(out).some((code) => code.startsWith('2'))) out['200'] = { description: 'Success' };
  for (const code of ['400', '404', '413', '500', ...(secured ? ['401', '403'] : [])]) {
    out[code] ??= { $ref: '#/components/responses/Error' };
  }
  return out;
}

/**
 * Swagger UI (served by the page's own script, so the `Function.toString` below runs in the
 * browser): the document is behind the API token when one is set, so a 401 on it asks for the
 * token once and keeps it where the web UI keeps it (sessionStorage `noetl.token`, this tab only);
 * requests from the page carry it unless the Authorize dialog set one.
 */
const uiConfig = {
  deepLinking: true,
  persistAuthorization: false,
  requestInterceptor: (request: { url: string; headers: Record<string, string> }) => {
    const token = window.sessionStorage.getItem('noetl.token');
    const sameOrigin = new URL(request.url, window.location.href).origin === window.location.origin;
    if (token && sameOrigin && !request.headers['Authorization']) {
      request.headers['Authorization'] = `Bearer ${token}`;
    }
    return request;
  },
  responseInterceptor: (response: { url: string; status: number }) => {
    if (response.status === 401 && new URL(response.url).pathname.endsWith('/docs/json')) {
      const token = window.prompt('This server requires its API token (NOETL_API_TOKEN):');
      if (token) {
        window.sessionStorage.setItem('noetl.token', token.trim());
        window.location.reload();
      }
    }
    return response;
  },
};

declare const window: {
  readonly sessionStorage: { getItem(key: string): string | null; setItem(key: string, value: string): void };
  readonly location: { readonly href: string; readonly origin: string; reload(): void };
  prompt(message: string): string | null;
};

/**
 * Registers @fastify/swagger (it collects every route registered afterwards, including plugins
 * added later) and serves the document at `/openapi.json` and Swagger UI at `/docs`. The UI's page
 * and static files are public (they hold no data); the document itself (`/openapi.json`,
 * `/docs/json`, `/docs/yaml`) needs the API token when one is set. Call before registering routes.
 */
export async function installOpenApi(app: FastifyInstance, options: OpenApiOptions): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'noetl control plane',
        version: options.version,
        description:
          'NoETL HTTP API: catalog, credentials, executions and events over an event log. Snowflake ids are decimal strings.',
      },
      ...(options.serverUrl === undefined ? {} : { servers: [{ url: options.serverUrl }] }),
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
        schemas: { Error: { ...errorBody, required: ['error', 'status', 'code'] } },
        responses: { Error: ERROR_RESPONSE },
      },
      ...(options.secured ? { security: [{ bearer: [] }] } : {}),
    },
    transformObject: (documentObject) => {
      const doc =
        'openapiObject' in documentObject ? documentObject.openapiObject : documentObject.swaggerObject;
      for (const item of Object.values((doc.paths ?? {}) as Record<string, Record<string, unknown>>)) {
        for (const [method, operation] of Object.entries(item)) {
          if (!HTTP_METHODS.has(method) || operation === null || typeof operation !== 'object') continue;
          const op = operation as { responses?: Responses };
          op.responses = withErrorResponses(op.responses, options.secured);
        }
      }
      return doc;
    },
  });
  app.get('/openapi.json', { schema: { hide: true } }, () => app.swagger());
  await app.register(async (docs) => {
    // The page, its script and its static files are public; the document is not.
    docs.addHook('onRoute', (route) => {
      if (!DOCUMENT_ROUTES.has(route.url)) route.config = { ...(route.config ?? {}), public: true };
    });
    await docs.register(swaggerUi, {
      routePrefix: DOCS_PREFIX,
      staticCSP: DOCS_CONTENT_SECURITY_POLICY,
      uiConfig: uiConfig as never,
      theme: { title: 'noetl API' },
    });
  });
}
