import { isDeepStrictEqual } from 'node:util';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/**
 * A development check of the wire model (docs/architecture.md, "One model"): fastify serialises a
 * route's answer with the response schema the route declares, and drops or converts what the
 * schema does not describe. With `NOETL_CHECK_RESPONSES=1` (the test suite sets it) every answer
 * serialised by a schema is compared with the plain JSON of the same value; a difference (a field
 * lost, a value converted) turns the answer into a 500 RESPONSE_SCHEMA_MISMATCH naming the first
 * differing path, so any test that reads the route fails.
 */
export function installResponseCheck(app: FastifyInstance): void {
  const expected = new WeakMap<FastifyRequest, string>();
  app.addHook('preSerialization', (request: FastifyRequest, reply: FastifyReply, payload: unknown, done) => {
    const schemas = request.routeOptions.schema?.response as Record<string, unknown> | undefined;
    const declared = schemas?.[String(reply.statusCode)] ?? schemas?.[`${String(reply.statusCode)[0]}xx`];
    if (declared !== undefined && payload !== null && typeof payload === 'object') {
      expected.set(request, JSON.stringify(payload));
    }
    done(null, payload);
  });
  app.addHook('onSend', (request: FastifyRequest, reply: FastifyReply, payload: unknown, done) => {
    const plain = expected.get(request);
    if (plain === undefined || typeof payload !== 'string') {
      done(null, payload);
      return;
    }
    const want = JSON.parse(plain) as unknown;
    const got = JSON.parse(payload) as unknown;
    const at = firstDifference(want, got, '$');
    if (at === undefined) {
      done(null, payload);
      return;
    }
    const route = `${request.method} ${request.routeOptions.url ?? request.url}`;
    const message = `response of ${route} differs from its declared schema at ${at}`;
    request.log.error({ route, at }, message);
    void reply.code(500);
    done(null, JSON.stringify({ error: message, status: 500, code: 'RESPONSE_SCHEMA_MISMATCH' }));
  });
}

/** The first JSON path where `a` and `b` differ, or undefined when they are equal. */
export function firstDifference(a: unknown, b: unknown, path: string): string | undefined {
  if (isDeepStrictEqual(a, b)) return undefined;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') {
    return `${path} (${JSON.stringify(a)?.slice(0, 60)} became ${JSON.stringify(b)?.slice(0, 60)})`;
  }
  if (Array.isArray(a) !== Array.isArray(b)) return `${path} (array/object)`;
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  for (const key of new Set([...Object.keys(ra), ...Object.keys(rb)])) {
    if (!(key in rb)) return `${path}.${key} (dropped)`;
    if (!(key in ra)) return `${path}.${key} (added)`;
    const inner = firstDifference(ra[key], rb[key], `${path}.${key}`);
    if (inner !== undefined) return inner;
  }
  return `${path}`;
}
