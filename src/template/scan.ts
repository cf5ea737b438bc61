/**
 * A small scanner for Jinja sources. It finds the blocks of a template, the root names it reads
 * (so a render marshals only those into the WASM engine, not the whole execution context), and
 * rewrites Jinja2's `x.0` item access into `x[0]`, which minijinja does not parse. Operations that
 * can multiply a size are routed through size-checked filters (rewrite.ts).
 */

import { guardSizes } from './rewrite.js';

const KEYWORDS = new Set([
  'and',
  'or',
  'not',
  'in',
  'is',
  'if',
  'else',
  'elif',
  'endif',
  'for',
  'endfor',
  'set',
  'endset',
  'true',
  'false',
  'none',
  'True',
  'False',
  'None',
  'loop',
  'recursive',
  'with',
  'endwith',
  'macro',
  'endmacro',
  'call',
  'endcall',
  'filter',
  'endfilter',
  'block',
  'endblock',
  'extends',
  'include',
  'import',
  'from',
  'as',
  'raw',
  'endraw',
  'do',
  'continue',
  'break',
  'autoescape',
  'endautoescape',
]);

export interface ScannedTemplate {
  /** The source to hand to minijinja (after Jinja2 compatibility rewrites). */
  readonly source: string;
  /** Root variable names the template may read. */
  readonly names: readonly string[];
  /** Names applied as filters (`x | name`), as written: `validate` warns of unknown ones. */
  readonly filters: readonly string[];
  /** When the whole template is one `{{ expr }}`: that expression (rewritten). */
  readonly expression: string | undefined;
  /**
   * Why the template is refused before it is compiled: a literal that builds a value past
   * MAX_LITERAL_REPEAT (minijinja folds constants while compiling, so `'a' * 3000000000` would be
   * built by registration alone).
   */
  readonly tooLarge?: string;
  /**
   * A tag that would load another template (`include`, `import`, `from`, `extends`): refused, so
   * a template sees only its own text, never one another playbook registered in the engine.
   */
  readonly loadsTemplate?: string;
  /** A name of the size guards' own (`__nt_...`), which templates may not use. */
  readonly reserved?: string;
}

const LOADING_TAGS = new Set(['include', 'import', 'from', 'extends']);

/** Longest string a template may build by repeating a literal (`'ab' * 10`). */
export const MAX_LITERAL_REPEAT = 1_000_000;

type Token =
  { kind: 'str'; len: number } | { kind: 'num'; value: number } | { kind: 'mul' } | { kind: 'other' };

function tokens(code: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < code.length) {
    const c = code[i]!;
    if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < code.length && code[j] !== c) j += code[j] === '\\' ? 2 : 1;
      out.push({ kind: 'str', len: j - i - 1 });
      i = j + 1;
    } else if (c >= '0' && c <= '9') {
      let j = i + 1;
      while (j < code.length && /[0-9_]/.test(code[j]!)) j++;
      out.push({ kind: 'num', value: Number(code.slice(i, j).replace(/_/g, '')) });
      i = j;
    } else if (c === '*') {
      const pow = code[i + 1] === '*';
      out.push(pow ? { kind: 'other' } : { kind: 'mul' });
      i += pow ? 2 : 1;
    } else if (c === ' ' || c === '\t' || c === '\n' || c === '\r') i++;
    else {
      out.push({ kind: 'other' });
      i++;
    }
  }
  return out;
}

/**
 * A literal string repeated by literal counts past the limit (`'a' * 3000 * 1000`, a chain of
 * literals joined by `*`), or undefined.
 */
function repetitionProblem(code: string): string | undefined {
  const list = tokens(code);
  for (let i = 0, j = 0; i < list.length; i = Math.max(i + 1, j - 1)) {
    let strLen: number | undefined;
    let count = 1;
    j = i;
    for (; j < list.length; j += 2) {
      const t = list[j]!;
      if (t.kind === 'str') strLen = (strLen ?? 0) + t.len;
      else if (t.kind === 'num') count *= t.value;
      else break;
      if (list[j + 1]?.kind !== 'mul') {
        j += 2;
        break;
      }
    }
    if (j - i > 2 && strLen !== undefined && strLen * count > MAX_LITERAL_REPEAT)
      return `a string repeated ${count} times (at most ${MAX_LITERAL_REPEAT} characters)`;
  }
  return undefined;
}

/** A string is a template iff it contains `{{` or `{%` (contract 1.11). */
export function isTemplate(value: string): boolean {
  return value.includes('{{') || value.includes('{%');
}

function isIdentStart(c: string): boolean {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_';
}

function isIdentPart(c: string): boolean {
  return isIdentStart(c) || (c >= '0' && c <= '9');
}

/**
 * Scans the code inside one block: collects root names and the names used as filters, rewrites
 * `.N` item access.
 */
function scanCode(code: string, names: Set<string>, filters: Set<string>): string {
  let out = '';
  let i = 0;
  let prevKind: 'ident' | 'close' | 'dot' | 'other' | 'number' | 'pipe' = 'other';
  while (i < code.length) {
    const c = code[i]!;
    if (c === '|') {
      out += c;
      i++;
      prevKind = 'pipe';
      continue;
    }
    if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < code.length && code[j] !== c) j += code[j] === '\\' ? 2 : 1;
      out += code.slice(i, j + 1);
      i = j + 1;
      prevKind = 'other';
      continue;
    }
    if (isIdentStart(c)) {
      let j = i + 1;
      while (j < code.length && isIdentPart(code[j]!)) j++;
      const word = code.slice(i, j);
      if (prevKind === 'pipe') filters.add(word);
      if (prevKind !== 'dot' && !KEYWORDS.has(word)) names.add(word);
      out += word;
      i = j;
      prevKind = 'ident';
      continue;
    }
    if (c >= '0' && c <= '9') {
      let j = i + 1;
      while (j < code.length && /[0-9.eE_]/.test(code[j]!)) j++;
      out += code.slice(i, j);
      i = j;
      prevKind = 'number';
      continue;
    }
    if (c === '.' && (prevKind === 'ident' || prevKind === 'close')) {
      // `x.0` (Jinja2 item access by integer) -> `x[0]`
      let j = i + 1;
      while (j < code.length && code[j]! >= '0' && code[j]! <= '9') j++;
      if (j > i + 1 && (j >= code.length || !isIdentPart(code[j]!))) {
        out += `[${code.slice(i + 1, j)}]`;
        i = j;
        prevKind = 'close';
        continue;
      }
      out += c;
      i++;
      prevKind = 'dot';
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      out += c;
      i++;
      continue; // whitespace keeps the previous kind: `a . b` is still attribute access
    }
    out += c;
    i++;
    prevKind = c === ')' || c === ']' ? 'close' : 'other';
  }
  return out;
}

/** Finds the end of a block opened at `start` (index of `{{` or `{%`), honouring strings. */
function blockEnd(src: string, start: number, close: '}}' | '%}'): number {
  let i = start + 2;
  while (i < src.length) {
    const c = src[i]!;
    if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < src.length && src[j] !== c) j += src[j] === '\\' ? 2 : 1;
      i = j + 1;
      continue;
    }
    if (src.startsWith(close, i)) return i;
    i++;
  }
  return -1;
}

export function scanTemplate(src: string): ScannedTemplate {
  const names = new Set<string>();
  const filters = new Set<string>();
  let out = '';
  let i = 0;
  let blocks = 0;
  let onlyExpression: string | undefined;
  let textOutside = false;
  let tooLarge: string | undefined;
  let loadsTemplate: string | undefined;
  while (i < src.length) {
    const open = src.slice(i).search(/\{\{|\{%|\{#/);
    if (open < 0) {
      if (src.slice(i).trim() !== '') textOutside = true;
      out += src.slice(i);
      break;
    }
    const at = i + open;
    if (src.slice(i, at).trim() !== '') textOutside = true;
    out += src.slice(i, at);
    const kind = src.slice(at, at + 2);
    if (kind === '{#') {
      const end = src.indexOf('#}', at + 2);
      const stop = end < 0 ? src.length : end + 2;
      out += src.slice(at, stop);
      i = stop;
      continue;
    }
    const close = kind === '{{' ? '}}' : '%}';
    const end = blockEnd(src, at, close);
    if (end < 0) {
      // unterminated: leave the rest to minijinja, which reports the syntax error
      out += src.slice(at);
      textOutside = true;
      break;
    }
    let inner = src.slice(at + 2, end);
    let lead = '';
    let trail = '';
    if (inner.startsWith('-') || inner.startsWith('+')) {
      lead = inner[0]!;
      inner = inner.slice(1);
    }
    if (inner.endsWith('-') || inner.endsWith('+')) {
      trail = inner[inner.length - 1]!;
      inner = inner.slice(0, -1);
    }
    const scannedCode = scanCode(inner, names, filters);
    tooLarge ??= repetitionProblem(scannedCode);
    const code = guardSizes(scannedCode);
    if (kind === '{%') {
      const tag = /^\s*([A-Za-z_]+)/.exec(code)?.[1];
      if (tag !== undefined && LOADING_TAGS.has(tag)) loadsTemplate ??= tag;
    }
    out += kind + lead + code + trail + close;
    blocks++;
    if (kind === '{{') onlyExpression = code.trim();
    else textOutside = true;
    i = end + 2;
    if (kind === '{%' && /^\s*raw\s*$/.test(code)) {
      // the text of a raw block is output as it is: nothing in it is rewritten
      const endRaw = /\{%-?\s*endraw\s*-?%\}/.exec(src.slice(i));
      const stop = endRaw ? i + endRaw.index : src.length;
      out += src.slice(i, stop);
      i = stop;
    }
  }
  const reserved = [...names].find((name) => name.startsWith('__nt_'));
  return {
    source: out,
    names: [...names],
    filters: [...filters],
    ...(reserved === undefined ? {} : { reserved }),
    expression: blocks === 1 && !textOutside && onlyExpression ? onlyExpression : undefined,
    ...(tooLarge === undefined ? {} : { tooLarge }),
    ...(loadsTemplate === undefined ? {} : { loadsTemplate }),
  };
}
