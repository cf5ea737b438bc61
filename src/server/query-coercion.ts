import type { FastifyInstance, FastifyRequest } from 'fastify';

/**
 * Request bodies are validated strictly (ajv `coerceTypes: false`: `{"name": 5}` is a 400, not
 * "5"), but querystrings and path params are text by nature. This hook converts their values to
 * the types their route schema declares (integer, number, boolean, array) before validation; a
 * value that does not convert is left as is and fails validation with a 400. An empty value of a
 * non-string field counts as absent (`?version=`).
 */

interface SchemaLike {
  readonly type?: string | readonly string[];
  readonly properties?: Readonly<Record<string, SchemaLike>>;
  readonly items?: SchemaLike;
  readonly anyOf?: readonly SchemaLike[];
  readonly oneOf?: readonly SchemaLike[];
}

function typesOf(schema: SchemaLike): Set<string> {
  const out = new Set<string>();
  if (typeof schema.type === 'string') out.add(schema.type);
  else if (Array.isArray(schema.type)) for (const t of schema.type as readonly string[]) out.add(t);
  for (const sub of [...(schema.anyOf ?? []), ...(schema.oneOf ?? [])])
    for (const t of typesOf(sub)) out.add(t);
  return out;
}

function coerceScalar(value: string, types: Set<string>): unknown {
  if (types.size === 0 || types.has('string')) return value;
  if ((types.has('integer') || types.has('number')) && /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(value)) {
    const n = Number(value);
    if (types.has('number') || (Number.isSafeInteger(n) && /^-?\d+$/.test(value))) return n;
  }
  if (types.has('boolean')) {
    const v = value.toLowerCase();
    if (v === 'true' || v === '1') return true;
    if (v === 'false' || v === '0') return false;
  }
  return value;
}

function coerce(value: unknown, schema: SchemaLike): unknown {
  const types = typesOf(schema);
  if (types.has('array')) {
    const items = schema.items ?? {};
    const list: unknown[] = Array.isArray(value) ? value : [value];
    return list.map((v) => (typeof v === 'string' ? coerceScalar(v, typesOf(items)) : v));
  }
  if (Array.isArray(value)) return value; // repeated key for a scalar: let validation refuse it
  return typeof value === 'string' ? coerceScalar(value, types) : value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function coercePart(target: unknown, schema: unknown): void {
  // fastify's query objects have a null-prototype class of their own: not "plain" objects.
  if (!isRecord(target) || !isRecord(schema)) return;
  const properties = (schema as SchemaLike).properties;
  if (properties === undefined) return;
  for (const [key, propSchema] of Object.entries(properties)) {
    if (!(key in target)) continue;
    const value = target[key];
    const types = typesOf(propSchema);
    if (value === '' && !types.has('string')) {
      delete target[key];
      continue;
    }
    target[key] = coerce(value, propSchema);
  }
}

export function coerceRequestParts(request: FastifyRequest): void {
  const schema = request.routeOptions.schema;
  if (schema === undefined) return;
  coercePart(request.query, schema.querystring);
  coercePart(request.params, schema.params);
}

export function installQueryCoercion(app: FastifyInstance): void {
  app.addHook('preValidation', (request, _reply, done) => {
    coerceRequestParts(request);
    done();
  });
}
