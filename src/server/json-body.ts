import type { FastifyInstance } from 'fastify';
import { NoetlError, errorMessage } from '../shared/index.js';

/**
 * JSON request bodies, the only kind the API takes (DESIGN.md section 7): `text/plain`, form and
 * multipart bodies, which a web page can send cross-site without a preflight, are refused with
 * 415, as is any other content type, except on routes registered with `config: { rawBody: true }`
 * (webhook ingress), which receive the raw bytes. Nesting deeper than MAX_JSON_DEPTH is refused
 * with 400 before parsing, so no later recursion (validation, SQL parameters) can overflow.
 *
 * NoETL clients send snowflake ids as JSON numbers (i64), above 2^53 where
 * `JSON.parse` would silently round them: integers too large for a double are turned into decimal
 * strings before parsing, so `{"execution_id": 612345678901234567890}` arrives as a string, digit
 * for digit. Bodies without a 16-digit run take the plain fast path. Prototype-poisoning keys
 * (`__proto__`) are refused as fastify does by default.
 */

const LONG_DIGITS = /\d{16}/;

/** `text` with every integer literal beyond Number.MAX_SAFE_INTEGER quoted (outside strings). */
export function quoteUnsafeIntegers(text: string): string {
  let out = '';
  let last = 0;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      i++;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (d === 92 /* \ */) i += 2;
        else if (d === 34) break;
        else i++;
      }
      i++;
      continue;
    }
    if (c === 45 /* - */ || (c >= 48 && c <= 57)) {
      const start = i;
      i++;
      while (i < n) {
        const d = text.charCodeAt(i);
        if ((d >= 48 && d <= 57) || d === 46 || d === 101 || d === 69 || d === 43 || d === 45) i++;
        else break;
      }
      const literal = text.slice(start, i);
      if (/^-?\d{16,}$/.test(literal) && !Number.isSafeInteger(Number(literal))) {
        out += `${text.slice(last, start)}"${literal}"`;
        last = i;
      }
      continue;
    }
    i++;
  }
  return last === 0 ? text : out + text.slice(last);
}

/** A `\u0000` escape preceded by an even number of backslashes: a NUL in a JSON string. */
const NUL_ESCAPE = /(?:^|[^\\])(?:\\\\)*\\u0000/;

/**
 * PostgreSQL text cannot hold NUL (U+0000): a body or URL carrying one is bad input, refused
 * here with 400 before any store sees it (PGlite would answer a protocol error, PostgreSQL 22021).
 */
function refuseNul(where: string): NoetlError {
  return new NoetlError('BAD_REQUEST', `${where} holds a NUL character (\\u0000), which noetl cannot store`);
}

function refuseProto(key: string, value: unknown): unknown {
  if (key === '__proto__') throw new NoetlError('BAD_REQUEST', 'body holds a forbidden "__proto__" key');
  return value;
}

/** Deepest nesting of arrays and objects a body may have. */
export const MAX_JSON_DEPTH = 256;

/** The deepest nesting of `[` and `{` in JSON text (outside strings), stopping past `limit`. */
export function jsonDepth(text: string, limit = Number.POSITIVE_INFINITY): number {
  let depth = 0;
  let max = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      i++;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (d === 92 /* \ */) i += 2;
        else if (d === 34) break;
        else i++;
      }
    } else if (c === 91 /* [ */ || c === 123 /* { */) {
      depth++;
      if (depth > max) {
        max = depth;
        if (max > limit) return max;
      }
    } else if (c === 93 /* ] */ || c === 125 /* } */) depth--;
  }
  return max;
}

/**
 * Parses a request body: undefined for an empty one, a 400 NoetlError for invalid JSON, a body
 * nested too deep, or (unless `acceptsNul`) one holding a NUL character.
 */
export function parseJsonBody(text: string, options: { acceptsNul?: boolean } = {}): unknown {
  if (text.trim() === '') return undefined;
  if (jsonDepth(text, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
    throw new NoetlError('BAD_REQUEST', `body is nested deeper than ${MAX_JSON_DEPTH} levels`, {
      details: { max_depth: MAX_JSON_DEPTH },
    });
  }
  if (options.acceptsNul !== true && text.includes('u0000') && NUL_ESCAPE.test(text)) throw refuseNul('body');
  const source = LONG_DIGITS.test(text) ? quoteUnsafeIntegers(text) : text;
  try {
    return source.includes('__proto__') ? JSON.parse(source, refuseProto) : JSON.parse(source);
  } catch (error) {
    if (error instanceof NoetlError) throw error;
    throw new NoetlError('BAD_REQUEST', `body is not valid JSON: ${errorMessage(error)}`);
  }
}

function unsupportedMediaType(type: string | undefined): NoetlError {
  const shown = type === undefined || type === '' ? 'none' : `'${type.slice(0, 100)}'`;
  return new NoetlError(
    'UNSUPPORTED_MEDIA_TYPE',
    `request bodies must be application/json (content type ${shown})`,
  );
}

/**
 * Parses `application/json` with parseJsonBody; every other content type is refused with 415
 * UNSUPPORTED_MEDIA_TYPE unless the route is flagged `rawBody` (then the body is a Buffer).
 */
export function installJsonBodyParser(app: FastifyInstance): void {
  // NUL in a path parameter or the query string (`/api/credentials/a%00b`); after the token check.
  app.addHook('preParsing', (request, _reply, payload, done) => {
    if (request.url.includes('%00')) done(refuseNul('URL'));
    else done(null, payload);
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (request.routeOptions.config.rawBody === true) {
      done(null, Buffer.from(body));
      return;
    }
    try {
      const text = typeof body === 'string' ? body : body.toString('utf8');
      done(null, parseJsonBody(text, { acceptsNul: request.routeOptions.config.acceptsNul === true }));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (request, body, done) => {
    if (request.routeOptions.config.rawBody === true) done(null, body);
    else done(unsupportedMediaType(request.headers['content-type']), undefined);
  });
}
