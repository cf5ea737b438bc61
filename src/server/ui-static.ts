import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { NoetlError, NotFoundError } from '../shared/index.js';
import { bearerToken, tokensEqual, type AuthTokens } from './auth.js';

/**
 * The web UI's static files (issue 13): `index.html` for `/` and every client-side route (deep
 * links such as `/executions/123`), the hashed bundles under `/assets/`. These routes are public
 * (`config.public`): they hold no data, and the UI asks for the token before its first API call.
 */

/** `<package>/dist/ui`: two levels above both src/server and dist/server. */
export function defaultUiDir(): string {
  return fileURLToPath(new URL('../../dist/ui/', import.meta.url));
}

/**
 * Paths that never fall back to the UI (`/api...`, `/health...`): an unknown URL there is the API's
 * 404, behind the token. Prefixes, not segments: `/health%00` or `/apix` are probes, not pages.
 */
const NOT_UI = /^\/(api|health|metrics|docs|openapi|ingress|assets)/i;

/** No inline script or style: the build emits files only. */
export const UI_CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const NOT_BUILT = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>noetl</title></head>
<body>
<h1>noetl</h1>
<p>The web UI is not built in this installation. Build it with <code>npm run build</code>, then
reload. The HTTP API is served under <a href="/docs">/docs</a>.</p>
</body>
</html>
`;

export interface UiStaticOptions extends AuthTokens {
  /** Directory holding `index.html` and `assets/`; default {@link defaultUiDir}. */
  readonly dir?: string;
}

function securityHeaders(reply: FastifyReply): FastifyReply {
  return reply
    .header('content-security-policy', UI_CONTENT_SECURITY_POLICY)
    .header('x-content-type-options', 'nosniff')
    .header('x-frame-options', 'DENY')
    .header('referrer-policy', 'no-referrer');
}

/**
 * An unknown URL under the API prefixes reaches the public catch-all route: it still needs the
 * token (probing for routes needs it), then it is the API's 404.
 */
function notFoundBehindToken(tokens: AuthTokens, request: FastifyRequest, reply: FastifyReply): never {
  if (tokens.apiToken !== undefined) {
    const given = bearerToken(request);
    if (given === undefined) {
      void reply.header('www-authenticate', 'Bearer');
      throw new NoetlError(
        'UNAUTHORIZED',
        'this server requires an API token: send Authorization: Bearer <token>',
      );
    }
    const ok =
      tokensEqual(given, tokens.apiToken) ||
      (tokens.internalApiToken !== undefined && tokensEqual(given, tokens.internalApiToken));
    if (!ok) throw new NoetlError('FORBIDDEN', 'the API token is not valid');
  }
  throw new NotFoundError(`Route ${request.method}:${request.url.split('?')[0] ?? ''} not found`);
}

const publicRoute = { public: true } as const;

/** Registers `/`, `/assets/*` and the client-side-route fallback. */
export function uiStatic(options: UiStaticOptions): FastifyPluginAsync {
  const dir = options.dir ?? defaultUiDir();
  const indexFile = join(dir, 'index.html');
  return async (app: FastifyInstance) => {
    // Every route of this plugin (those of @fastify/static included) is public.
    app.addHook('onRoute', (route) => {
      route.config = { ...(route.config ?? {}), ...publicRoute };
    });
    app.addHook('onSend', (_request, reply, payload, done) => {
      securityHeaders(reply);
      done(null, payload);
    });

    const assets = join(dir, 'assets');
    if (existsSync(assets)) {
      await app.register(fastifyStatic, {
        root: assets,
        prefix: '/assets/',
        decorateReply: false,
        index: false,
        dotfiles: 'deny',
        // Names carry a content hash: a changed file is a new name.
        maxAge: 365 * 24 * 3600 * 1000,
        immutable: true,
      });
    } else {
      app.get('/assets/*', { config: publicRoute, schema: { hide: true } }, (request) => {
        throw new NotFoundError(`Route GET:${request.url.split('?')[0] ?? ''} not found`);
      });
    }

    const index = async (_request: FastifyRequest, reply: FastifyReply) => {
      let html: string;
      try {
        html = await readFile(indexFile, 'utf8');
      } catch {
        html = NOT_BUILT;
      }
      return reply.header('cache-control', 'no-cache').type('text/html; charset=utf-8').send(html);
    };
    app.get('/', { config: publicRoute, schema: { hide: true } }, index);
    app.get('/*', { config: publicRoute, schema: { hide: true } }, async (request, reply) => {
      const path = request.url.split('?')[0] ?? '/';
      if (NOT_UI.test(path)) notFoundBehindToken(options, request, reply);
      return index(request, reply);
    });
  };
}
