/**
 * Filters that can multiply the size of their input (`join`, `replace`, `indent`, string
 * repetition), done in JavaScript so the size of the result is computed from the inputs and
 * refused before anything is built. minijinja's own versions build first and are bounded only by
 * the engine's memory cap.
 *
 * The scanner (scan.ts) hands these filters exact text: `x | replace(...)` is rendered as
 * `x | string | replace(...)` and `xs | join(...)` as `xs | map('string') | tojson |
 * __nt_join(...)`, so every
 * value reaches JavaScript already formatted by minijinja (floats keep their `.0`, `none` its
 * name) and the results equal the built-ins'.
 *
 * A filter refuses by returning REFUSED, a value minijinja cannot take back: the render then
 * fails as an ordinary template error and the renderer reports the refusal recorded here. A
 * filter that threw would trap the engine instead (minijinja-js unwraps the call's result).
 */

/** Most characters a filter (or a string repetition) may build. */
export const MAX_TEMPLATE_TEXT = 16 * 1024 * 1024;

/** Most items a list repetition (`[...] * n`) may make. */
export const MAX_TEMPLATE_ITEMS = 1_000_000;

/** Why the render in progress was refused by a filter; taken by the renderer. */
export interface Refusal {
  readonly message: string;
  /** `size` when the result would pass MAX_TEMPLATE_TEXT; absent for a bad argument. */
  readonly limit?: 'size';
}

const REFUSED = Symbol('refused');
let pending: Refusal | undefined;

/** The refusal of the last render, cleared. */
export function takeRefusal(): Refusal | undefined {
  const refusal = pending;
  pending = undefined;
  return refusal;
}

function refuse(message: string, limit?: 'size'): symbol {
  pending ??= limit === undefined ? { message } : { message, limit };
  return REFUSED;
}

function tooLarge(what: string, size: number): symbol {
  return refuse(`${what} would build ${size} characters (at most ${MAX_TEMPLATE_TEXT})`, 'size');
}

type Filter = (value: unknown, ...args: unknown[]) => unknown;

/** A filter that refuses instead of throwing (a throw would trap the engine). */
export function guarded(name: string, fn: Filter): Filter {
  return (value, ...args) => {
    try {
      return fn(value, ...args);
    } catch (err) {
      return refuse(`${name}: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
}

/**
 * Text of a value that did not come through `string` (a filter called by name from `map`, or
 * a `{% filter %}` block's body, which is text already). Integral floats lose their `.0` here:
 * JavaScript cannot tell them from integers.
 */
function text(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === undefined) return '';
  if (value === null) return 'none';
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  return JSON.stringify(value instanceof Map ? Object.fromEntries(value) : value) ?? '';
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}

/** `s * n` for a string `s`: minijinja's repetition, refused past MAX_TEMPLATE_TEXT. */
function repeat(value: unknown, count: unknown): unknown {
  if (typeof value !== 'string' || !isCount(count))
    return refuse('strings can only be multiplied with non-negative integers');
  const size = value.length * count;
  if (size > MAX_TEMPLATE_TEXT) return tooLarge(`a string repeated ${count} times`, size);
  return value.repeat(count);
}

/** `xs * n` for a list literal of `length` items: `n` when the result fits. */
function repeatCount(count: unknown, length: unknown): unknown {
  if (typeof length !== 'number' || !isCount(count)) return count; // minijinja reports it
  const items = length * count;
  if (items > MAX_TEMPLATE_ITEMS)
    return refuse(`a list repeated to ${items} items (at most ${MAX_TEMPLATE_ITEMS})`, 'size');
  return count;
}

type Sized = { kind: 'text' | 'list'; size: number } | { kind: 'number'; value: number } | undefined;

function sized(value: unknown): Sized {
  if (typeof value === 'string') return { kind: 'text', size: value.length };
  if (Array.isArray(value)) return { kind: 'list', size: value.length };
  if (typeof value === 'number') return { kind: 'number', value };
  return undefined;
}

function overLimit(s: Sized): symbol | undefined {
  if (s?.kind === 'text' && s.size > MAX_TEMPLATE_TEXT) return tooLarge('a string repetition', s.size);
  if (s?.kind === 'list' && s.size > MAX_TEMPLATE_ITEMS)
    return refuse(`a list repeated to ${s.size} items (at most ${MAX_TEMPLATE_ITEMS})`, 'size');
  return undefined;
}

/**
 * Guard of `a * b * c` (rewrite.ts): follows the product as minijinja computes it, left to
 * right, and refuses when a string or list would be repeated past the limits. True otherwise:
 * minijinja then computes the product itself (and reports what it cannot multiply).
 */
function product(first: unknown, ...rest: unknown[]): unknown {
  let acc = sized(first);
  for (const next of rest) {
    const n = sized(next);
    if (acc === undefined || n === undefined) return true;
    if (acc.kind === 'number' && n.kind === 'number') acc = { kind: 'number', value: acc.value * n.value };
    else if (acc.kind !== 'number' && n.kind === 'number')
      acc = { kind: acc.kind, size: acc.size * Math.max(0, n.value) };
    else if (acc.kind === 'number' && n.kind !== 'number')
      acc = { kind: n.kind, size: n.size * Math.max(0, acc.value) };
    else return true;
    const refused = overLimit(acc);
    if (refused) return refused;
  }
  return true;
}

/** The items `join` iterates: a list's, a string's characters, a map's keys. */
function joinItems(value: unknown): string[] | undefined {
  if (Array.isArray(value)) return value.map(text);
  if (typeof value === 'string') return [...value];
  if (value instanceof Map) return [...value.keys()].map(text);
  return undefined;
}

function join(value: unknown, separator?: unknown, ...rest: unknown[]): unknown {
  if (rest.length > 0) return refuse('join takes at most one argument (the separator)');
  if (value === undefined || value === null) return '';
  const items = joinItems(value);
  if (items === undefined) return refuse(`cannot join value of type ${typeof value}`);
  const sep = separator === undefined || separator === null ? '' : text(separator);
  let size = items.length > 0 ? sep.length * (items.length - 1) : 0;
  for (const item of items) size += item.length;
  if (size > MAX_TEMPLATE_TEXT) return tooLarge(`join of ${items.length} items`, size);
  return items.join(sep);
}

/** `join` of the items minijinja formatted, handed over as a JSON list of strings (rewrite.ts). */
function joinFormatted(json: unknown, separator?: unknown, ...rest: unknown[]): unknown {
  if (typeof json !== 'string') return refuse('join: expected the formatted items');
  const items = JSON.parse(json) as unknown;
  return join(items, separator, ...rest);
}

/**
 * Guard of minijinja's `join` (rewrite.ts): `count` items joined by `separator`. The items are
 * built already; the separators are what a join multiplies.
 */
function joinFits(count: unknown, separator?: unknown, ...rest: unknown[]): unknown {
  if (rest.length > 0 || typeof count !== 'number') return true; // minijinja reports it
  const sep = separator === undefined || separator === null ? '' : text(separator);
  const size = Math.max(0, count - 1) * sep.length;
  if (size > MAX_TEMPLATE_TEXT) return tooLarge(`join of ${count} items`, size);
  return true;
}

/** Occurrences `replace` would substitute, at most `limit` (negative: all). */
function occurrences(s: string, from: string, limit: number): number {
  let n = 0;
  for (let at = s.indexOf(from); at >= 0 && n !== limit; at = s.indexOf(from, at + from.length)) n++;
  return n;
}

/**
 * `replace(from, to[, count])`: Rust's `str::replace` (an empty `from` matches before every
 * character and at the end), or the first `count` occurrences as Python's `str.replace`.
 */
function replace(value: unknown, from: unknown, to: unknown, count?: unknown, ...rest: unknown[]): unknown {
  if (rest.length > 0 || from === undefined || to === undefined)
    return refuse('replace takes two arguments (old, new) and an optional count');
  if (count !== undefined && count !== null && !Number.isInteger(count))
    return refuse('replace: count must be an integer');
  const s = text(value);
  const old = text(from);
  const rep = text(to);
  const limit = typeof count === 'number' && count >= 0 ? count : -1;
  if (old === '') {
    const chars = [...s];
    const n = limit < 0 ? chars.length + 1 : Math.min(limit, chars.length + 1);
    const size = s.length + n * rep.length;
    if (size > MAX_TEMPLATE_TEXT) return tooLarge(`replace of ${n} places`, size);
    let out = '';
    for (let i = 0; i < chars.length; i++) out += (i < n ? rep : '') + chars[i]!;
    return n > chars.length ? out + rep : out;
  }
  const n = occurrences(s, old, limit);
  const size = s.length + n * (rep.length - old.length);
  if (size > MAX_TEMPLATE_TEXT) return tooLarge(`replace of ${n} occurrences`, size);
  if (limit < 0) return s.split(old).join(rep);
  let out = '';
  let at = 0;
  for (let i = 0; i < n; i++) {
    const hit = s.indexOf(old, at);
    out += s.slice(at, hit) + rep;
    at = hit + old.length;
  }
  return out + s.slice(at);
}

function flag(value: unknown): boolean | undefined {
  if (value === undefined || value === null) return false;
  return typeof value === 'boolean' ? value : undefined;
}

function stripNewline(s: string): string {
  const a = s.endsWith('\n') ? s.slice(0, -1) : s;
  return a.endsWith('\r') ? a.slice(0, -1) : a;
}

/** `indent(width, first=false, blank=false)`, as minijinja's. */
function indent(
  value: unknown,
  width: unknown,
  first?: unknown,
  blank?: unknown,
  ...rest: unknown[]
): unknown {
  const indentFirst = flag(first);
  const indentBlank = flag(blank);
  if (rest.length > 0 || !isCount(width) || indentFirst === undefined || indentBlank === undefined)
    return refuse('indent takes a width (a non-negative integer) and two optional booleans');
  const lines = stripNewline(text(value)).split('\n');
  let size = 0;
  for (let i = 0; i < lines.length; i++) {
    const indented = (i > 0 || indentFirst) && (lines[i] !== '' || indentBlank);
    size += lines[i]!.length + 1 + (indented ? width : 0);
  }
  if (size > MAX_TEMPLATE_TEXT || width > MAX_TEMPLATE_TEXT)
    return tooLarge(`indent by ${width} of ${lines.length} lines`, Math.max(size, width));
  const pad = ' '.repeat(width);
  let out = '';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (i === 0 && !indentFirst) out += line;
    else if (line === '') out += indentBlank ? pad : '';
    else out += pad + line;
    out += '\n';
  }
  return stripNewline(out);
}

/**
 * The size-checked filters, registered over minijinja's own. Names starting with `__nt_` are
 * reached only through the scanner's rewrites.
 */
export const SIZED_FILTERS: Readonly<Record<string, Filter>> = {
  __nt_join: guarded('join', joinFormatted),
  __nt_join_fits: guarded('join', joinFits),
  replace: guarded('replace', replace),
  indent: guarded('indent', indent),
  __nt_repeat: guarded('repeat', repeat),
  __nt_items: guarded('repeat', repeatCount),
  __nt_product: guarded('multiply', product),
  __nt_unchecked: () =>
    refuse(
      'a product of two values from calls is refused as too large to check: compute one of them first ({% set n = k() | int %})',
      'size',
    ),
};

/**
 * The size-checked tests. `__nt_fits(n, m)` is true when its value repeated `n * m` times fits,
 * and refuses otherwise: the guard of a repetition whose value comes from a call with effects,
 * `(m() | fromjson) * n`, which the scanner rewrites to `(([m() | fromjson] | select('__nt_fits',
 * n) | first) * n)` so the call runs once.
 */
export const SIZED_TESTS: Readonly<Record<string, Filter>> = {
  __nt_fits: guarded('multiply', product),
};
