import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isLoopbackHost, type ServerConfig } from '../config/index.js';
import { sendError } from './errors.js';

/**
 * What a browser may do to the server (DESIGN.md section 7, docs/security.md):
 *
 * - **Host allow-list.** On a loopback address only requests whose `Host` is `localhost`,
 *   `127.0.0.1`, `[::1]` (any port), the host of `NOETL_PUBLIC_SERVER_URL` or a name of
 *   `NOETL_ALLOWED_HOSTS` are served: a DNS-rebound name (`evil.example` resolving to 127.0.0.1)
 *   gets 403. On any other address the Host is checked only when NOETL_ALLOWED_HOSTS is set.
 * - **Origins.** A request carrying an `Origin` that is neither the server's own (same scheme-less
 *   host and port as its `Host`) nor listed in `NOETL_CORS_ORIGINS` gets 403: a page of another
 *   site cannot make the browser act on the API, whatever the method or content type. Listed
 *   origins get CORS headers (echoed, never `*`) and their preflights are answered; nothing else
 *   gets CORS headers.
 */

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];
const ALLOWED_METHODS = 'GET, POST, PUT, DELETE, PATCH, OPTIONS';
const ALLOWED_HEADERS = 'authorization, content-type, last-event-id';

/** `host` of a Host header value (`name:port`, `[v6]:port`), lower case, without the port. */
export function hostName(header: string): string {
  const h = header.trim().toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    return end < 0 ? h : h.slice(0, end + 1);
  }
  const colon = h.indexOf(':');
  return colon < 0 ? h : h.slice(0, colon);
}

/** The host names the Host header may carry, or undefined when any is accepted. */
export function allowedHostNames(config: ServerConfig): ReadonlySet<string> | undefined {
  const loopback = isLoopbackHost(config.host);
  if (!loopback && config.allowedHosts.length === 0) return undefined;
  const names = new Set([...LOOPBACK_NAMES, ...config.allowedHosts]);
  if (loopback)
    names.add(config.host.includes(':') ? `[${config.host.replace(/^\[|\]$/g, '')}]` : config.host);
  try {
    names.add(new URL(config.publicServerUrl).hostname.toLowerCase());
  } catch {
    // checked by the config loader
  }
  return names;
}

function refuse(reply: FastifyReply, error: string): FastifyReply {
  return sendError(reply, { error, status: 403, code: 'FORBIDDEN' });
}

/** `scheme://host[:port]` of an Origin header, or undefined for `null` and garbage. */
function originOf(header: string): string | undefined {
  try {
    const url = new URL(header);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.origin : undefined;
  } catch {
    return undefined;
  }
}

/** True when the Origin names the host the request was sent to (the browser's same-origin case). */
function sameOrigin(origin: string, request: FastifyRequest): boolean {
  const host = request.headers.host;
  if (typeof host !== 'string') return false;
  const url = new URL(origin);
  const defaultPort = url.protocol === 'https:' ? '443' : '80';
  const given = host.trim().toLowerCase();
  const withPort = given.includes(':') && !given.endsWith(']') ? given : `${given}:${defaultPort}`;
  return `${url.hostname}:${url.port === '' ? defaultPort : url.port}` === withPort;
}

/** Installs the Host allow-list and the Origin / CORS rules as the first onRequest hooks. */
export function installNetworkGuard(app: FastifyInstance, config: ServerConfig): void {
  const hosts = allowedHostNames(config);
  const cors = new Set(config.corsOrigins);
  app.addHook('onRequest', (request, reply, done) => {
    if (hosts !== undefined) {
      const host = request.headers.host;
      if (typeof host !== 'string' || !hosts.has(hostName(host))) {
        void refuse(
          reply,
          `host '${typeof host === 'string' ? hostName(host).slice(0, 100) : ''}' is not served here; add it to NOETL_ALLOWED_HOSTS`,
        );
        return;
      }
    }
    const rawOrigin = request.headers.origin;
    if (rawOrigin === undefined) {
      done();
      return;
    }
    const origin = originOf(rawOrigin);
    const listed = origin !== undefined && cors.has(origin);
    if (!listed && (origin === undefined || !sameOrigin(origin, request))) {
      void refuse(
        reply,
        `cross-origin request from '${rawOrigin.slice(0, 100)}' refused; list the origin in NOETL_CORS_ORIGINS`,
      );
      return;
    }
    if (listed) {
      void reply
        .header('access-control-allow-origin', origin)
        .header('vary', 'Origin')
        .header('access-control-expose-headers', 'www-authenticate');
      if (request.method === 'OPTIONS' && request.headers['access-control-request-method'] !== undefined) {
        void reply
          .header('access-control-allow-methods', ALLOWED_METHODS)
          .header('access-control-allow-headers', ALLOWED_HEADERS)
          .header('access-control-max-age', '600')
          .code(204)
          .send();
        return;
      }
    }
    done();
  });
}
