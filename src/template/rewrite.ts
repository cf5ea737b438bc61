/**
 * Rewrites of a block's code so that operations which can multiply a size go through the
 * size-checked filters of sized.ts, which refuse a result past its limit before building it:
 *
 * - `x | join(s)` becomes `x | map('string') | tojson | __nt_join(s)` and `x | replace(...)` /
 *   `x | indent(...)` become `x | string | ...`: minijinja formats each value, JavaScript only
 *   counts and joins;
 * - the Python methods `s.replace(a, b)` and `sep.join(xs)` become the filters
 *   `(s | replace(a, b))` and `(xs | join(sep))`;
 * - a repetition whose string operand is visible in the source (`'-' * n`, `('ab' ~ x) * n`)
 *   becomes `(('-') | __nt_repeat(n))`; a list literal's (`[0] * n`) gets its count checked by
 *   `__nt_items`. Repetitions of literals by literals stay as they are (the scanner checks them
 *   and minijinja folds them while compiling).
 *
 * What the source does not show (`x * n` with `x` a string or list from the context, `~` in a
 * loop) is not rewritten: the engine's memory cap bounds it (docs/security.md).
 */

type Kind = 'str' | 'num' | 'ident' | 'op' | 'open' | 'close' | 'ws';
interface Tok {
  readonly kind: Kind;
  readonly text: string;
}

const TWO_CHAR_OPS = new Set(['**', '//', '==', '!=', '<=', '>=']);
/** Words that are operators: an identifier before `(` that is one of these is not a call. */
const WORD_OPS = new Set(['and', 'or', 'not', 'in', 'is', 'if', 'else']);
/** Operators binding looser than `~`: a group holding one of them may not be a string. */
const LOOSER_THAN_CONCAT = new Set([
  '+',
  '-',
  '==',
  '!=',
  '<',
  '>',
  '<=',
  '>=',
  'in',
  'and',
  'or',
  'not',
  'if',
  'else',
  ',',
]);

function isIdentStart(c: string): boolean {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_';
}

function lex(code: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < code.length) {
    const c = code[i]!;
    let j = i + 1;
    let kind: Kind;
    if (c === '"' || c === "'") {
      while (j < code.length && code[j] !== c) j += code[j] === '\\' ? 2 : 1;
      j = Math.min(j + 1, code.length);
      kind = 'str';
    } else if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      while (j < code.length && /\s/.test(code[j]!)) j++;
      kind = 'ws';
    } else if (isIdentStart(c)) {
      while (j < code.length && /[A-Za-z0-9_]/.test(code[j]!)) j++;
      kind = 'ident';
    } else if (c >= '0' && c <= '9') {
      while (j < code.length && /[0-9_.eE]/.test(code[j]!)) j++;
      kind = 'num';
    } else if (c === '(' || c === '[' || c === '{') kind = 'open';
    else if (c === ')' || c === ']' || c === '}') kind = 'close';
    else {
      if (TWO_CHAR_OPS.has(code.slice(i, i + 2))) j = i + 2;
      kind = 'op';
    }
    out.push({ kind, text: code.slice(i, j) });
    i = j;
  }
  return out;
}

function prevSig(toks: readonly Tok[], i: number): number {
  let j = i - 1;
  while (j >= 0 && toks[j]!.kind === 'ws') j--;
  return j;
}

function nextSig(toks: readonly Tok[], i: number): number {
  let j = i + 1;
  while (j < toks.length && toks[j]!.kind === 'ws') j++;
  return j;
}

const pairs = new WeakMap<readonly Tok[], Int32Array>();

/** For each bracket, the index of its partner (-1 when unbalanced); computed once per lexing. */
function pairTable(toks: readonly Tok[]): Int32Array {
  let table = pairs.get(toks);
  if (table) return table;
  table = new Int32Array(toks.length).fill(-1);
  const stack: number[] = [];
  for (let i = 0; i < toks.length; i++) {
    const k = toks[i]!.kind;
    if (k === 'open') stack.push(i);
    else if (k === 'close') {
      const open = stack.pop();
      if (open === undefined) continue;
      table[open] = i;
      table[i] = open;
    }
  }
  pairs.set(toks, table);
  return table;
}

function matchClose(toks: readonly Tok[], open: number): number {
  return toks[open]?.kind === 'open' ? pairTable(toks)[open]! : -1;
}

function matchOpen(toks: readonly Tok[], close: number): number {
  return toks[close]?.kind === 'close' ? pairTable(toks)[close]! : -1;
}

function textOf(toks: readonly Tok[], from: number, to: number): string {
  let s = '';
  for (let i = from; i <= to; i++) s += toks[i]!.text;
  return s;
}

function isWord(t: Tok | undefined, words: ReadonlySet<string>): boolean {
  return t !== undefined && t.kind === 'ident' && words.has(t.text);
}

/**
 * Start of the primary and postfix chain (`a.b[0](x)`, `'s'`, `(...)`) that ends at `end`, or
 * -1 when the shape is not one of these.
 */
function chainStart(toks: readonly Tok[], end: number): number {
  let j = end;
  for (;;) {
    const t = toks[j];
    if (t === undefined) return -1;
    let start: number;
    if (t.kind === 'close') {
      const open = matchOpen(toks, j);
      if (open < 0) return -1;
      const before = toks[prevSig(toks, open)];
      const applied =
        toks[open]!.text !== '{' &&
        before !== undefined &&
        (before.kind === 'close' ||
          before.kind === 'str' ||
          (before.kind === 'ident' && !WORD_OPS.has(before.text)));
      if (applied) {
        j = prevSig(toks, open);
        continue;
      }
      start = open;
    } else if (t.kind === 'str' || t.kind === 'num' || (t.kind === 'ident' && !WORD_OPS.has(t.text)))
      start = j;
    else return -1;
    const dot = prevSig(toks, start);
    if (toks[dot]?.text === '.') {
      j = prevSig(toks, dot);
      continue;
    }
    return start;
  }
}

const MUL_CHAIN = new Set(['*', '**', '/', '//', '%', '|']);
/** Most tokens of one atom of a guarded chain. */
const MAX_ATOM = 64;
/** Longest operand chain followed (longer ones are left alone: scanning stays linear). */
const MAX_CHAIN = 32;

/** Start of the left operand of the `*` at `m` (a chain of `*`, `/`, `**`, filters), or -1. */
function leftOperand(toks: readonly Tok[], m: number): number {
  let end = prevSig(toks, m);
  for (let steps = 0; steps < MAX_CHAIN; steps++) {
    const start = chainStart(toks, end);
    if (start < 0) return -1;
    const before = toks[prevSig(toks, start)];
    if (before?.kind === 'op' && MUL_CHAIN.has(before.text)) {
      end = prevSig(toks, prevSig(toks, start));
      continue;
    }
    if (isWord(before, new Set(['is', 'not']))) return -1;
    return start;
  }
  return -1;
}

/** End of a primary and its postfix chain starting at `i`, or -1. */
function chainEnd(toks: readonly Tok[], i: number): number {
  const t = toks[i];
  let end: number;
  if (t === undefined) return -1;
  if (t.kind === 'open') end = matchClose(toks, i);
  else if (t.kind === 'str' || t.kind === 'num' || (t.kind === 'ident' && !WORD_OPS.has(t.text))) end = i;
  else return -1;
  for (;;) {
    if (end < 0) return -1;
    const n = nextSig(toks, end);
    const next = toks[n];
    if (next?.text === '.' && toks[nextSig(toks, n)]?.kind === 'ident') end = nextSig(toks, n);
    else if (next?.kind === 'open' && next.text !== '{') end = matchClose(toks, n);
    else return end;
  }
}

/** End of the right operand of the `*` at `m` (with its filters and `**`), or -1. */
function rightOperand(toks: readonly Tok[], m: number): number {
  let i = nextSig(toks, m);
  while (toks[i]?.text === '-') i = nextSig(toks, i);
  let end = chainEnd(toks, i);
  for (;;) {
    if (end < 0) return -1;
    const n = nextSig(toks, end);
    const next = toks[n];
    if (next?.text === '|') {
      const name = nextSig(toks, n);
      if (toks[name]?.kind !== 'ident') return -1;
      const open = nextSig(toks, name);
      end = toks[open]?.text === '(' ? matchClose(toks, open) : name;
    } else if (next?.text === '**') end = rightOperand(toks, n);
    else if (isWord(next, new Set(['is']))) return -1;
    else return end;
  }
}

/** Tokens of a bracketed group's top level (between `open` and its close). */
function topLevel(toks: readonly Tok[], open: number, close: number): Tok[] {
  const out: Tok[] = [];
  let depth = 0;
  for (let i = open + 1; i < close; i++) {
    const t = toks[i]!;
    if (t.kind === 'open') depth++;
    else if (t.kind === 'close') depth--;
    else if (depth === 0 && t.kind !== 'ws') out.push(t);
  }
  return out;
}

const REPEATED_RE = /^\(\(.*\) \| __nt_repeat\(.*\)\)$/s;

/** True when the operand toks[s..e] is certainly a string. */
function isStringOperand(toks: readonly Tok[], s: number, e: number): boolean {
  const text = textOf(toks, s, e).trim();
  if (REPEATED_RE.test(text)) return true;
  const sig: Tok[] = [];
  for (let i = s; i <= e; i++) if (toks[i]!.kind !== 'ws') sig.push(toks[i]!);
  // a literal chain: 'ab' * 3 * n
  if (
    sig.some((t) => t.kind === 'str') &&
    sig.every((t) => t.kind === 'str' || t.kind === 'num' || t.text === '*')
  )
    return true;
  if (toks[s]!.text === '(' && matchClose(toks, s) === e) {
    // a group whose value is a concatenation, ('ab' ~ x), or holds a string operand
    const inner = topLevel(toks, s, e);
    if (inner.some((t) => t.text === '~')) return !inner.some((t) => LOOSER_THAN_CONCAT.has(t.text));
    const first = nextSig(toks, s);
    const last = prevSig(toks, e);
    return first <= last && isStringOperand(toks, first, last);
  }
  return false;
}

/** Items of a list literal toks[s..e], or undefined when it is not one. */
function listLength(toks: readonly Tok[], s: number, e: number): number | undefined {
  if (toks[s]!.text !== '[' || matchClose(toks, s) !== e) return undefined;
  const inner = topLevel(toks, s, e);
  if (inner.length === 0) return 0;
  const commas = inner.filter((t) => t.text === ',').length;
  return inner[inner.length - 1]!.text === ',' ? commas : commas + 1;
}

function isLiteral(toks: readonly Tok[], s: number, e: number): boolean {
  for (let i = s; i <= e; i++) {
    const t = toks[i]!;
    if (t.kind !== 'ws' && t.kind !== 'str' && t.kind !== 'num' && t.text !== '*') return false;
  }
  return true;
}

/** One repetition rewritten, or undefined when none applies. */
function rewriteRepetition(toks: readonly Tok[]): string | undefined {
  for (let m = 0; m < toks.length; m++) {
    if (toks[m]!.text !== '*') continue;
    const s = leftOperand(toks, m);
    const e = rightOperand(toks, m);
    if (s < 0 || e < 0) continue;
    const le = prevSig(toks, m);
    const rs = nextSig(toks, m);
    const left = textOf(toks, s, le);
    const right = textOf(toks, rs, e);
    if (left.includes('__nt_items') || right.includes('__nt_items')) continue;
    if (isLiteral(toks, s, le) && isLiteral(toks, rs, e)) continue;
    let replacement: string | undefined;
    if (isStringOperand(toks, s, le)) replacement = `((${left}) | __nt_repeat(${right}))`;
    else if (isStringOperand(toks, rs, e)) replacement = `((${right}) | __nt_repeat(${left}))`;
    else {
      const l = listLength(toks, s, le);
      const r = listLength(toks, rs, e);
      if (l !== undefined) replacement = `(${left} * ((${right}) | __nt_items(${l})))`;
      else if (r !== undefined) replacement = `(((${left}) | __nt_items(${r})) * ${right})`;
    }
    if (replacement !== undefined)
      return textOf(toks, 0, s - 1) + replacement + textOf(toks, e + 1, toks.length - 1);
  }
  return undefined;
}

/** One `.replace(...)` or `.join(...)` method call rewritten as a filter, or undefined. */
function rewriteMethod(toks: readonly Tok[]): string | undefined {
  for (let d = 0; d < toks.length; d++) {
    if (toks[d]!.text !== '.') continue;
    const name = nextSig(toks, d);
    const method = toks[name]?.text;
    if (method !== 'replace' && method !== 'join') continue;
    const open = nextSig(toks, name);
    if (toks[open]?.text !== '(') continue;
    const close = matchClose(toks, open);
    const start = chainStart(toks, prevSig(toks, d));
    if (close < 0 || start < 0) continue;
    const receiver = textOf(toks, start, prevSig(toks, d));
    const args = textOf(toks, open, close);
    let replacement: string;
    if (method === 'replace') replacement = `(${receiver} | replace${args})`;
    else {
      const inner = topLevel(toks, open, close);
      if (inner.length === 0 || inner.some((t) => t.text === ',' || t.text === '=')) continue;
      replacement = `((${textOf(toks, open + 1, close - 1)}) | join(${receiver}))`;
    }
    return textOf(toks, 0, start - 1) + replacement + textOf(toks, close + 1, toks.length - 1);
  }
  return undefined;
}

/**
 * Bounds of an atom of a guarded chain ending at `end`: a name path (`a`, `a.b`, `a['k']`,
 * `a[0]`), an integer literal, or a `range(...)` call over such atoms. These are pure and cheap,
 * so the guard may evaluate them a second time. -1 when toks[..end] ends otherwise. With
 * `anyCall`, calls and groups with effects (a macro's `m()`) count too: for an operand the guard
 * evaluates once.
 */
function atomStart(toks: readonly Tok[], end: number, anyCall = false): number {
  let j = end;
  for (;;) {
    const t = toks[j];
    if (t === undefined) return -1;
    if (t.kind === 'num') return /^[0-9_]+$/.test(t.text) ? j : -1;
    if (t.kind === 'close') {
      const open = matchOpen(toks, j);
      if (open < 0) return -1;
      const inner = topLevel(toks, open, j);
      if (t.text === ']') {
        if (inner.length !== 1 || (inner[0]!.kind !== 'num' && inner[0]!.kind !== 'str')) return -1;
        j = prevSig(toks, open);
        continue;
      }
      const callee = prevSig(toks, open);
      const called = toks[callee];
      const isGroup =
        t.text === ')' &&
        (called === undefined ||
          (called.kind === 'ident'
            ? WORD_OPS.has(called.text)
            : called.kind !== 'close' && called.kind !== 'str'));
      // a group of pure code: `(n * 1000)`
      if (isGroup) return anyCall || isPure(toks, open, j) ? open : -1;
      if (t.text !== ')' || called?.kind !== 'ident' || !(anyCall || isPure(toks, callee, j))) return -1;
      j = callee; // range(...), dict(...), s.split(','), x | batch(2)
    } else if (t.kind !== 'ident' || WORD_OPS.has(t.text) || t.text.startsWith('__nt_')) return -1;
    // attribute access and filters belong to the atom: `a.b`, `x | list`
    const before = prevSig(toks, j);
    if (toks[before]?.text !== '.' && toks[before]?.text !== '|') return j;
    j = prevSig(toks, before);
  }
}

/**
 * Tokens before (after) a chain that take its first (last) atom as their own operand: then the
 * chain is not a whole operand and is left alone.
 */
const BEFORE = new Set(['*', '**', '|', '.', '/', '//', '%']);
const AFTER = new Set(['**', '|', '.', '[', '(', '/', '//', '%', 'is']);

/** True when the text of toks[from..] starts with `prefix`. */
function startsWithText(toks: readonly Tok[], from: number, prefix: string): boolean {
  let text = '';
  for (let i = from; i < toks.length && text.length < prefix.length; i++) text += toks[i]!.text;
  return text.startsWith(prefix);
}

/**
 * A chain of pure atoms joined by `*`, `xs * n * m`, where a value may be a string or a list of
 * the context: guarded as `(xs * n * m if (xs | __nt_product(n, m)) else none)`, the guard
 * refusing a repetition past the limits before minijinja builds it (a list repetition is lazy
 * in minijinja: `sum` or `in` over it would run for as many items without using memory).
 */
function rewriteChain(toks: readonly Tok[]): string | undefined {
  for (let m = 0; m < toks.length; m++) {
    const op = toks[m]!.text;
    if (op !== '*') continue;

    const atoms: [number, number][] = [];
    // At most one operand may have effects (a macro's `m() | fromjson`): it is evaluated once.
    let once = -1;
    let twoCalls = false;
    const firstEnd = prevSig(toks, m);
    let firstStart = atomStart(toks, firstEnd);
    if (firstStart < 0) {
      firstStart = atomStart(toks, firstEnd, true);
      once = 0;
    }
    if (firstStart < 0) continue;
    atoms.push([firstStart, firstEnd]);
    const before = toks[prevSig(toks, firstStart)];
    if (before !== undefined && BEFORE.has(before.text)) continue;
    let at = m;
    let ok = true;
    while (toks[at]?.text === op) {
      const start = nextSig(toks, at);
      // the longest atom starting here, pure if it can be
      const longest = (anyCall: boolean): number => {
        let end = start;
        for (let e = start; e < toks.length && e - start < MAX_ATOM && toks[e]!.text !== op; e++) {
          if (toks[e]!.kind === 'open') e = Math.max(e, matchClose(toks, e));
          if (toks[e]!.kind !== 'ws' && atomStart(toks, e, anyCall) === start) end = e;
        }
        return atomStart(toks, end, anyCall) === start ? end : -1;
      };
      let end = longest(false);
      const whole = longest(true);
      if (whole > end) {
        // `c()`: the pure atom is only the name `c`, the operand is the call
        if (once >= 0) twoCalls = true;
        else once = atoms.length;
        end = whole;
      }
      if (end < 0) {
        ok = false;
        break;
      }
      atoms.push([start, end]);
      at = nextSig(toks, end);
    }
    const after = toks[at];
    if (!ok || (after !== undefined && AFTER.has(after.text))) continue;
    const last = atoms[atoms.length - 1]![1];
    const literal = atoms.filter(([s]) => toks[s]!.kind === 'num').length;
    if (literal === atoms.length) continue;
    const texts = atoms.map(([s, e]) => textOf(toks, s, e));
    const head = textOf(toks, 0, firstStart - 1);
    const tail = textOf(toks, last + 1, toks.length - 1);
    if (twoCalls) {
      // neither value can be checked before the other is known: refused, never built
      return `${head}(none | __nt_unchecked)${tail}`;
    }
    if (once >= 0) {
      // evaluated once, inside a list: the test sees the value, and minijinja keeps its own copy
      const value = texts[once]!;
      if (value.includes("'__nt_fits'")) continue; // guarded already
      const counts = texts.filter((_, i) => i !== once);
      const guarded = `([${value}] | select('__nt_fits', ${counts.join(', ')}) | first)`;
      return `${head}(${texts.map((t, i) => (i === once ? guarded : t)).join(' * ')})${tail}`;
    }
    if (startsWithText(toks, last + 1, ` if (${texts[0]!} | __nt_`)) continue; // guarded already
    const guard = `(${texts[0]!} | __nt_product(${texts.slice(1).join(', ')}))`;
    const chain = textOf(toks, firstStart, last);
    return `${head}(${chain} if ${guard} else none)${tail}`;
  }
  return undefined;
}

/** Start of the operand of the filter whose `|` is at `pipe` (with its earlier filters), or -1. */
function filterOperand(toks: readonly Tok[], pipe: number): number {
  let end = prevSig(toks, pipe);
  for (let steps = 0; steps < MAX_CHAIN; steps++) {
    const start = chainStart(toks, end);
    if (start < 0) return -1;
    const before = toks[prevSig(toks, start)];
    if (before?.text === '|') {
      end = prevSig(toks, prevSig(toks, start));
      continue;
    }
    return before?.text === '-' || isWord(before, new Set(['is'])) ? -1 : start;
  }
  return -1;
}

/**
 * NoETL's `length` (and `len`) computed by minijinja: `x | length` becomes
 * `([x] | reject('none') | reject('undefined') | select('iterable') | map('count') | first |
 * default(0))`, the characters of a string, the items of a list or map, 0 for anything else, as
 * the JavaScript filter (filters.ts) gives them, but without copying the value into JavaScript
 * (a 100,000-row result would be copied whole to be counted). Left to the JavaScript filter when
 * the operand's extent is not clear.
 */
function rewriteLength(toks: readonly Tok[]): string | undefined {
  for (let i = 0; i < toks.length; i++) {
    if (toks[i]!.text !== '|') continue;
    const name = nextSig(toks, i);
    if (toks[name]?.text !== 'length' && toks[name]?.text !== 'len') continue;
    const after = toks[nextSig(toks, name)];
    if (after?.text === '(' || after?.text === '.' || after?.text === '[') continue;
    const start = filterOperand(toks, i);
    if (start < 0) continue;
    const operand = textOf(toks, start, prevSig(toks, i));
    const counted = `([${operand}] | reject('none') | reject('undefined') | select('iterable') | map('count') | first | default(0))`;
    return textOf(toks, 0, start - 1) + counted + textOf(toks, name + 1, toks.length - 1);
  }
  return undefined;
}

/**
 * What `| name` becomes. `join` gets its items formatted by minijinja and handed over as one JSON
 * text (one crossing into JavaScript instead of one per item: 100,000 items take 20 ms, not 700).
 */
const FORMAT_FIRST: Readonly<Record<string, string>> = {
  join: "map('string') | tojson | __nt_join",
  replace: 'string | replace',
  indent: 'string | indent',
};

/** True when the `join` whose `|` is at `pipe` is the second half of a rewriteJoin guard. */
function isGuardedJoin(toks: readonly Tok[], pipe: number): boolean {
  const start = filterOperand(toks, pipe);
  if (start < 0) return false;
  const and = prevSig(toks, start);
  if (toks[and]?.text !== 'and') return false;
  const open = matchOpen(toks, prevSig(toks, and));
  return open >= 0 && toks[prevSig(toks, open)]?.text === '__nt_join_fits';
}

/** True when evaluating toks[s..e] twice is the same as once: no call but `range`, filters. */
/** Functions and (Python-compatible) methods without side effects. */
const PURE_FUNCTIONS = new Set(['range', 'dict', 'namespace']);
const PURE_METHODS = new Set([
  'items',
  'keys',
  'values',
  'get',
  'count',
  'split',
  'splitlines',
  'upper',
  'lower',
  'title',
  'capitalize',
  'strip',
  'lstrip',
  'rstrip',
  'replace',
  'join',
  'find',
  'rfind',
  'startswith',
  'endswith',
  'isdigit',
  'isnumeric',
  'isalnum',
  'isalpha',
  'isascii',
  'islower',
  'isupper',
  'isspace',
]);

/**
 * True when evaluating toks[s..e] twice is the same as once: its calls are filters, `range`,
 * `dict`, `namespace` and the Python-compatible methods (not a macro, `cycler` or `joiner`).
 */
function isPure(toks: readonly Tok[], s: number, e: number): boolean {
  for (let i = s; i <= e; i++) {
    if (toks[i]!.text !== '(') continue;
    const callee = prevSig(toks, i);
    const t = toks[callee];
    if (t?.kind !== 'ident' || WORD_OPS.has(t.text)) continue; // a group
    const before = toks[prevSig(toks, callee)]?.text;
    if (before === '|') continue; // a filter's arguments
    if (before === '.' ? PURE_METHODS.has(t.text) : PURE_FUNCTIONS.has(t.text)) continue;
    return false;
  }
  return true;
}

/**
 * `x | join(s)` checked before minijinja joins: `((x) | list | count | __nt_join_fits(s) and
 * (x) | join(s))`. Separators are what multiply a join's size (its items are already built), so
 * the guard refuses when the separators alone pass the limit; minijinja's own `join` then builds
 * the text. Evaluates `x` twice, so only for operands without calls; the others go through
 * `__nt_join` (formatFilterInputs).
 */
function rewriteJoin(toks: readonly Tok[]): string | undefined {
  for (let i = 0; i < toks.length; i++) {
    if (toks[i]!.text !== '|') continue;
    const name = nextSig(toks, i);
    if (toks[name]?.text !== 'join') continue;
    const start = filterOperand(toks, i);
    if (start < 0) continue;
    if (isGuardedJoin(toks, i)) continue;
    const operandEnd = prevSig(toks, i);
    if (!isPure(toks, start, operandEnd)) continue;
    const open = nextSig(toks, name);
    const close = toks[open]?.text === '(' ? matchClose(toks, open) : -1;
    if (toks[open]?.text === '(' && close < 0) continue;
    const args = close < 0 ? '' : textOf(toks, open + 1, close - 1);
    if (close >= 0 && !isPure(toks, open, close)) continue;
    const x = textOf(toks, start, operandEnd).trim();
    const guarded = `((${x}) | list | count | __nt_join_fits(${args}) and (${x}) | join(${args}))`;
    const end = close < 0 ? name : close;
    return textOf(toks, 0, start - 1) + guarded + textOf(toks, end + 1, toks.length - 1);
  }
  return undefined;
}

/** `| join`, `| replace`, `| indent` get their input formatted by minijinja first. */
function formatFilterInputs(toks: readonly Tok[]): string {
  let out = '';
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i]!;
    out += t.text;
    if (t.text !== '|') continue;
    const name = nextSig(toks, i);
    const filter = toks[name];
    const prefix = filter?.kind === 'ident' ? FORMAT_FIRST[filter.text] : undefined;
    if (prefix === undefined) continue;
    if (filter?.text === 'join' && isGuardedJoin(toks, i)) continue;
    out += textOf(toks, i + 1, name - 1) + prefix;
    i = name;
  }
  return out;
}

const MAX_REWRITES = 64;

/** The code of one block with its size-multiplying operations routed through sized.ts. */
export function guardSizes(code: string): string {
  if (!/[*]|replace|join|indent|len/.test(code)) return code;
  let current = code;
  for (let n = 0; n < MAX_REWRITES; n++) {
    const toks = lex(current);
    const next =
      rewriteMethod(toks) ??
      rewriteRepetition(toks) ??
      rewriteChain(toks) ??
      rewriteLength(toks) ??
      rewriteJoin(toks);
    if (next === undefined) break;
    current = next;
  }
  return formatFilterInputs(lex(current));
}
