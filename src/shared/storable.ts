/**
 * Text PostgreSQL cannot store (in `jsonb` or `text`): NUL, and UTF-16 surrogates without their
 * other half (a string cut in the middle of a pair, bytes decoded as UTF-16). A tool result
 * holding one could never be written: such characters become U+FFFD on the way in.
 */
// eslint-disable-next-line no-control-regex -- NUL is the character to find
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const UNSTORABLE_TEST = new RegExp(UNSTORABLE.source);

/** What replaces an unstorable character: U+FFFD REPLACEMENT CHARACTER. */
export const REPLACEMENT_CHAR = '\ufffd';

/** Said in `meta.sanitized` of an event whose text was changed. */
export const SANITIZED_NOTE = 'NUL bytes and lone surrogates replaced by U+FFFD';

function cleanText(text: string): string {
  return UNSTORABLE_TEST.test(text) ? text.replace(UNSTORABLE, REPLACEMENT_CHAR) : text;
}

function clean(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return cleanText(value);
  if (value === null || typeof value !== 'object' || depth > 256) return value;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      const next = clean(item, depth + 1);
      if (next !== item) {
        out ??= value.slice();
        out[i] = next;
      }
    }
    return out ?? value;
  }
  if (value instanceof Date) return value;
  const map = value as Record<string, unknown>;
  let out: Record<string, unknown> | undefined;
  for (const key in map) {
    if (!Object.prototype.hasOwnProperty.call(map, key)) continue;
    const item = map[key];
    const next = clean(item, depth + 1);
    const name = cleanText(key);
    if (next !== item || name !== key) {
      out ??= { ...map };
      if (name !== key) delete out[key];
      out[name] = next;
    }
  }
  return out ?? value;
}

/**
 * `value` with NUL and lone surrogates replaced by U+FFFD in every string and key. Pure: the
 * same object when nothing changed (callers compare to learn whether it did), unchanged parts
 * shared.
 */
export function storableValue<T>(value: T): T {
  return clean(value, 0) as T;
}
