import type { FastifyInstance } from 'fastify';
import { NoetlError, errorMessage } from '../shared/index.js';

/**
 * JSON request bodies. NoETL clients send snowflake ids as JSON numbers (i64), above 2^53 where
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

function refuseProto(key: string, value: unknown): unknown {
  if (key === '__proto__') throw new NoetlError('BAD_REQUEST', 'body holds a forbidden "__proto__" key');
  return value;
}

/** Parses a request body: undefined for an empty one, a 400 NoetlError for invalid JSON. */
export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') return undefined;
  const source = LONG_DIGITS.test(text) ? quoteUnsafeIntegers(text) : text;
  try {
    return source.includes('__proto__') ? JSON.parse(source, refuseProto) : JSON.parse(source);
  } catch (error) {
    if (error instanceof NoetlError) throw error;
    throw new NoetlError('BAD_REQUEST', `body is not valid JSON: ${errorMessage(error)}`);
  }
}

/**
 * Parses `application/json` with parseJsonBody; `text/plain` and form-encoded bodies are read as
 * JSON too (`curl -d '{...}'` sends a form content type).
 */
export function installJsonBodyParser(app: FastifyInstance): void {
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser(
    ['application/json', 'text/plain', 'application/x-www-form-urlencoded'],
    { parseAs: 'string' },
    (_request, body, done) => {
      try {
        done(null, parseJsonBody(typeof body === 'string' ? body : body.toString('utf8')));
      } catch (error) {
        done(error as Error, undefined);
      }
    },
  );
}
