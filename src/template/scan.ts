/**
 * A small scanner for Jinja sources. It finds the blocks of a template, the root names it reads
 * (so a render marshals only those into the WASM engine, not the whole execution context), and
 * rewrites Jinja2's `x.0` item access into `x[0]`, which minijinja does not parse.
 */

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
  /** When the whole template is one `{{ expr }}`: that expression (rewritten). */
  readonly expression: string | undefined;
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

/** Scans the code inside one block: collects root names, rewrites `.N` item access. */
function scanCode(code: string, names: Set<string>): string {
  let out = '';
  let i = 0;
  let prevKind: 'ident' | 'close' | 'dot' | 'other' | 'number' = 'other';
  while (i < code.length) {
    const c = code[i]!;
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
  let out = '';
  let i = 0;
  let blocks = 0;
  let onlyExpression: string | undefined;
  let textOutside = false;
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
    const code = scanCode(inner, names);
    out += kind + lead + code + trail + close;
    blocks++;
    if (kind === '{{') onlyExpression = code.trim();
    else textOutside = true;
    i = end + 2;
  }
  return {
    source: out,
    names: [...names],
    expression: blocks === 1 && !textOutside && onlyExpression ? onlyExpression : undefined,
  };
}
