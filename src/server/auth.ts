import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest, onRequestHookHandler, preHandlerHookHandler } from 'fastify';
import { NoetlError } from '../shared/index.js';

/**
 * Bearer tokens (contract 4; issue 4): with `NOETL_API_TOKEN` set, every route but the health
 * checks and routes registered with `config: { public: true }` (the web UI's static files, which
 * hold no data) requires `Authorization: Bearer <token>` (401 without, 403 with a wrong one).
 * Internal routes require `NOETL_INTERNAL_API_TOKEN` instead (503 while it is unset). Tokens are
 * compared in constant time over their SHA-256, so neither content nor length leaks through timing.
 */

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Served without the API token (static files of the web UI; never data). */
    public?: boolean;
    /**
     * The route takes bodies of any content type, raw (a Buffer), and verifies them its own way
     * (webhook ingress). Other routes accept `application/json` only (json-body.ts).
     */
    rawBody?: boolean;
    /**
     * The route makes NUL characters in its JSON body storable itself (event ingest replaces them
     * with U+FFFD); elsewhere a body holding one is refused with 400 (json-body.ts).
     */
    acceptsNul?: boolean;
  }
}

/** Routes anyone may call (probes). Matched against the route pattern, not the raw URL. */
export const PUBLIC_ROUTES: ReadonlySet<string> = new Set(['/health', '/api/health']);

/** True for a route open without the token: the probes and routes flagged `public`. */
export function isPublicRoute(request: FastifyRequest): boolean {
  return PUBLIC_ROUTES.has(request.routeOptions.url ?? '') || request.routeOptions.config.public === true;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** Constant-time equality of two secrets. */
export function tokensEqual(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m?.[1];
}

function unauthorized(reply: FastifyReply, what: string): NoetlError {
  void reply.header('www-authenticate', 'Bearer');
  return new NoetlError('UNAUTHORIZED', `${what}: send Authorization: Bearer <token>`);
}

export interface AuthTokens {
  readonly apiToken?: string;
  readonly internalApiToken?: string;
}

/**
 * onRequest hook enforcing `NOETL_API_TOKEN` on every route except the public ones (unknown URLs
 * and methods too, so probing for routes needs the token; CORS preflights of listed origins are
 * answered before this hook). The internal token is accepted as well: whoever holds it may call
 * internal routes, which are stronger.
 */
export function apiTokenHook(tokens: AuthTokens): onRequestHookHandler {
  const { apiToken, internalApiToken } = tokens;
  return (request, reply, done) => {
    if (apiToken === undefined || isPublicRoute(request)) {
      done();
      return;
    }
    const given = bearerToken(request);
    if (given === undefined) {
      done(unauthorized(reply, 'this server requires an API token'));
      return;
    }
    const ok =
      tokensEqual(given, apiToken) ||
      (internalApiToken !== undefined && tokensEqual(given, internalApiToken));
    done(ok ? undefined : new NoetlError('FORBIDDEN', 'the API token is not valid'));
  };
}

/**
 * preHandler of internal routes (`catalog/delete`, `catalog/restore`, `/api/internal/*`): 503 when
 * `NOETL_INTERNAL_API_TOKEN` is unset on the server, 401 without a token, 403 with a wrong one.
 */
export function internalTokenGuard(tokens: AuthTokens): preHandlerHookHandler {
  const { internalApiToken } = tokens;
  return (request, reply, done) => {
    if (internalApiToken === undefined) {
      done(
        new NoetlError(
          'UNAVAILABLE',
          'this route is internal and NOETL_INTERNAL_API_TOKEN is not set on the server',
        ),
      );
      return;
    }
    const given = bearerToken(request);
    if (given === undefined) {
      done(unauthorized(reply, 'this route requires the internal API token'));
      return;
    }
    done(
      tokensEqual(given, internalApiToken)
        ? undefined
        : new NoetlError('FORBIDDEN', 'the internal API token is not valid'),
    );
  };
}
