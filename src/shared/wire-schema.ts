/**
 * A small typed JSON Schema builder for the wire model (docs/architecture.md, "One model"): each
 * builder returns a plain JSON Schema object (what fastify validates and serialises with, and what
 * the OpenAPI document shows) that also carries its TypeScript type, read back with `Static<S>`.
 * So a wire shape is declared once and both the routes' schemas and the clients' types (CLI, TUI,
 * web UI) come from that declaration.
 */

/** A JSON Schema object whose instances have type `T` (phantom; never present at run time). */
export type Schema<T> = Readonly<Record<string, unknown>> & { readonly __type?: T };

export type Static<S> = S extends Schema<infer T> ? T : never;

import type { JsonObject, JsonValue } from './json.js';

type Json = JsonValue;

interface Doc {
  readonly description?: string;
}

function doc(schema: Record<string, unknown>, opts: Doc | undefined): Record<string, unknown> {
  return opts?.description === undefined ? schema : { ...schema, description: opts.description };
}

export function str<T extends string = string>(opts?: Doc & { readonly format?: string }): Schema<T> {
  const base: Record<string, unknown> = { type: 'string' };
  if (opts?.format !== undefined) base['format'] = opts.format;
  return doc(base, opts);
}

export function int(opts?: Doc): Schema<number> {
  return doc({ type: 'integer' }, opts);
}

export function num(opts?: Doc): Schema<number> {
  return doc({ type: 'number' }, opts);
}

export function bool(opts?: Doc): Schema<boolean> {
  return doc({ type: 'boolean' }, opts);
}

/** One of the given strings. */
export function oneOf<const T extends readonly string[]>(values: T, opts?: Doc): Schema<T[number]> {
  return doc({ type: 'string', enum: [...values] }, opts);
}

/** Any JSON value (results, workloads, event contexts: shapes the playbook decides). */
export function json(opts?: Doc): Schema<Json> {
  return doc({}, opts);
}

/** A JSON object with any keys. */
export function jsonObject(opts?: Doc): Schema<JsonObject> {
  return doc({ type: 'object', additionalProperties: true }, opts);
}

/** `T` or null. */
export function nullable<T>(schema: Schema<T>): Schema<T | null> {
  const s = schema as Record<string, unknown>;
  const t = s['type'];
  if (typeof t === 'string') {
    const out: Record<string, unknown> = { ...s, type: [t, 'null'] };
    if (Array.isArray(s['enum'])) out['enum'] = [...(s['enum'] as unknown[]), null];
    return out;
  }
  return { anyOf: [s, { type: 'null' }] };
}

export function array<T>(items: Schema<T>, opts?: Doc): Schema<T[]> {
  return doc({ type: 'array', items }, opts);
}

/** A map from any key to values of one shape. */
export function record<T>(values: Schema<T>, opts?: Doc): Schema<Record<string, T>> {
  return doc({ type: 'object', additionalProperties: values }, opts);
}

type Props = Record<string, Schema<unknown>>;
type Opt<P extends Props, K extends keyof P> = { [k in K]?: Static<P[k]> };
type Req<P extends Props, K extends keyof P> = { [k in K]: Static<P[k]> };
type Flat<T> = { [k in keyof T]: T[k] };

export type ObjectType<P extends Props, R extends keyof P> = Flat<Req<P, R> & Opt<P, Exclude<keyof P, R>>>;

export interface ObjectOpts<R> extends Doc {
  /** Keys always present (every key is, unless listed in `optional`). */
  readonly optional?: readonly R[];
  /**
   * Whether keys beyond the declared ones are kept. Wire objects are open by default: a server
   * newer than its client may add fields, and fastify's serialiser drops undeclared keys of a
   * closed object.
   */
  readonly open?: boolean;
}

/**
 * An object whose keys are all required but those named in `optional`. The schema lists every
 * key, so fastify's serialiser writes them all.
 */
export function object<P extends Props, O extends keyof P = never>(
  properties: P,
  opts?: ObjectOpts<O>,
): Schema<ObjectType<P, Exclude<keyof P, O>>> {
  const optional = new Set<string>((opts?.optional ?? []) as readonly unknown[] as string[]);
  const required = Object.keys(properties).filter((k) => !optional.has(k));
  const base: Record<string, unknown> = {
    type: 'object',
    properties,
    required,
    additionalProperties: opts?.open ?? true,
  };
  return doc(base, opts);
}

/** The same object with more keys. */
export function extend<A, P extends Props, O extends keyof P = never>(
  base: Schema<A>,
  properties: P,
  opts?: ObjectOpts<O>,
): Schema<Flat<A & ObjectType<P, Exclude<keyof P, O>>>> {
  const b = base as Record<string, unknown>;
  const more = object(properties, opts) as Record<string, unknown>;
  return {
    ...b,
    ...(opts?.description === undefined ? {} : { description: opts.description }),
    properties: { ...(b['properties'] as object), ...(more['properties'] as object) },
    required: [...(b['required'] as string[]), ...(more['required'] as string[])],
  };
}
