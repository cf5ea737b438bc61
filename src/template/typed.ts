/**
 * The typing rules of contract 1.11: a rendered string becomes JSON, a boolean, a number or null
 * when it looks like one; conditions follow Python-like truthiness.
 */

const INT_RE = /^-?\d+$/;
const FLOAT_RE = /^-?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?$/;
const FALSY_STRINGS = new Set(['', 'false', '0', 'no', 'none', 'null', 'off', '{}', '[]']);

/** Applies typed rendering to one rendered string. */
export function coerceRendered(text: string): unknown {
  const t = text.trim();
  // Only these become null (contract 1.11); the word `none` stays a string.
  if (t === '' || t === 'null' || t === 'None') return null;
  if (t === 'true' || t === 'True') return true;
  if (t === 'false' || t === 'False') return false;
  const first = t[0];
  if ((first === '{' && t.endsWith('}')) || (first === '[' && t.endsWith(']'))) {
    try {
      return JSON.parse(t) as unknown;
    } catch {
      return text;
    }
  }
  if (INT_RE.test(t)) {
    const n = Number(t);
    return Number.isSafeInteger(n) ? n : text;
  }
  if (FLOAT_RE.test(t) && t.includes('.')) {
    const n = Number(t);
    return Number.isFinite(n) ? n : text;
  }
  return text;
}

/** Python-like truthiness, with the contract's falsy strings. */
export function truthy(value: unknown): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value !== 0 && !Number.isNaN(value);
  if (typeof value === 'bigint') return value !== 0n;
  if (typeof value === 'string') return !FALSY_STRINGS.has(value.trim().toLowerCase());
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object') return Object.keys(value).length > 0;
  return true;
}
