/**
 * NoETL's custom filters (contract 1.11) on top of minijinja's built-ins. Values arrive from the
 * WASM side with maps as `Map`; `plain` turns them back into JSON-shaped values.
 */

export function plain(value: unknown): unknown {
  if (value instanceof Map) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of value) out[String(k)] = plain(v);
    return out;
  }
  if (Array.isArray(value)) return value.map(plain);
  return value;
}

function utf8ToBase64(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

function base64ToUtf8(b64: string): string {
  const bin = atob(b64.replace(/\s+/g, ''));
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return new TextDecoder().decode(bytes);
}

function asString(value: unknown): string {
  const v = plain(value);
  if (typeof v === 'string') return v;
  if (v === undefined || v === null) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint' ? String(v) : '';
}

const LOW_SURROGATES = /[\uDC00-\uDFFF]/g;

/**
 * `length` (alias `len`) as NoETL's filter gives it: the characters of a string, the items of a
 * list or map, and 0 for anything else (undefined, none, a number), where minijinja's own
 * `length` fails the render. NoETL playbooks count a field that may be missing
 * (`output.data.entry | length`) and expect 0.
 */
function length(value: unknown): number {
  if (typeof value === 'string') return value.length - (value.match(LOW_SURROGATES)?.length ?? 0);
  if (Array.isArray(value)) return value.length;
  if (value instanceof Map) return value.size;
  if (value && typeof value === 'object') return Object.keys(value).length;
  return 0;
}

export const CUSTOM_FILTERS: Readonly<Record<string, (value: unknown, ...args: unknown[]) => unknown>> = {
  b64encode: (v) => utf8ToBase64(asString(v)),
  b64decode: (v) => base64ToUtf8(asString(v)),
  fromjson: (v) => {
    const p = plain(v);
    if (typeof p !== 'string') return p;
    try {
      return JSON.parse(p) as unknown;
    } catch {
      return p;
    }
  },
  keys: (v) => {
    const p = plain(v);
    return p && typeof p === 'object' && !Array.isArray(p) ? Object.keys(p) : [];
  },
  values: (v) => {
    const p = plain(v);
    return p && typeof p === 'object' && !Array.isArray(p) ? Object.values(p as Record<string, unknown>) : [];
  },
  get: (v, key, fallback) => {
    const p = plain(v);
    if (p && typeof p === 'object' && !Array.isArray(p)) {
      const k = String(key);
      return Object.prototype.hasOwnProperty.call(p, k)
        ? (p as Record<string, unknown>)[k]
        : (fallback ?? null);
    }
    if (Array.isArray(p) && typeof key === 'number') return (p as unknown[])[key] ?? fallback ?? null;
    return fallback ?? null;
  },
  len: length,
  length,
};
