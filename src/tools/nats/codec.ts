import type { MsgHdrs } from '@nats-io/transport-node';
import { configError, scalarText, type ConfigMap } from '../config-helpers.js';
import { NATS_KIND, type NatsEncoding } from './config.js';
import type { NatsModules } from './connection.js';

const BASE64_RE = /^[A-Za-z0-9+/\-_]*={0,2}$/;

/**
 * A value to bytes: a string as it is (utf-8, or decoded when `encoding: base64`), absent as no
 * bytes, anything else (maps, lists, numbers, booleans) as JSON.
 */
export function encodePayload(value: unknown, encoding: NatsEncoding, key: string): Uint8Array {
  if (value === undefined || value === null) return new Uint8Array(0);
  if (typeof value !== 'string') return new TextEncoder().encode(JSON.stringify(value));
  if (encoding === 'utf-8') return new TextEncoder().encode(value);
  const compact = value.replace(/\s+/g, '');
  if (!BASE64_RE.test(compact)) throw configError(NATS_KIND, `'${key}' is not valid base64`);
  return new Uint8Array(Buffer.from(compact, 'base64'));
}

/**
 * Bytes to a value: base64 text for `encoding: base64`; otherwise utf-8 text, parsed as JSON when
 * `json` is set and it parses (so a map put with kv_put comes back as a map).
 */
export function decodePayload(bytes: Uint8Array, encoding: NatsEncoding, json: boolean): unknown {
  if (encoding === 'base64') return Buffer.from(bytes).toString('base64');
  const text = new TextDecoder().decode(bytes);
  if (!json || text.trim() === '') return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** `headers:` of a publish as NATS headers (values stringified). */
export function toHeaders(mods: NatsModules, map: ConfigMap | undefined): MsgHdrs | undefined {
  if (map === undefined || Object.keys(map).length === 0) return undefined;
  const hdrs = mods.transport.headers();
  for (const [k, v] of Object.entries(map)) {
    if (v === undefined || v === null) continue;
    if (Array.isArray(v)) for (const item of v) hdrs.append(k, scalarText(item));
    else hdrs.set(k, scalarText(v));
  }
  return hdrs;
}

/** NATS headers as a map: one value as a string, repeated values as a list. */
export function fromHeaders(hdrs: MsgHdrs | undefined): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  if (!hdrs) return out;
  for (const k of hdrs.keys()) {
    const values = hdrs.values(k);
    out[k] = values.length === 1 ? (values[0] ?? '') : values;
  }
  return out;
}

/** Glob of `kv_keys.pattern`: `*` any run of characters, `?` one character. */
export function globMatcher(pattern: string): (key: string) => boolean {
  const source = pattern
    .split('')
    .map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  const re = new RegExp(`^${source}$`, 's');
  return (key) => re.test(key);
}
