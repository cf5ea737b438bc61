import { LineCounter } from 'yaml';
import type { Path } from './raw.js';
import type { SourcePosition } from './types.js';

/**
 * A fast reader for the plain shape most playbooks have: block maps and lists indented with
 * spaces, single-line flow collections (`{ kind: noop }`, `[ a, b ]`), plain and quoted
 * single-line scalars, comments. It returns what `yaml` would (the same value, the same
 * positions) or undefined for anything else: anchors, aliases, tags, block scalars, multi-line
 * scalars or flow collections, documents markers, directives, tabs, keys that are not plain
 * strings, duplicate keys, numbers other than plain integers, and every syntax error. The caller
 * then parses the text with `yaml`, which reports what it finds. A test compares both readers on
 * generated documents and on every playbook in the repository.
 */

/**
 * Where a value starts as a path reaches it: a map value is reported at its key, a list item at
 * its first character. A scalar is its offset; a collection carries its children.
 */
type PosNode = number | PosMap | PosList;
interface PosMap {
  readonly at: number;
  readonly keys: Map<string, PosNode>;
}
interface PosList {
  readonly at: number;
  readonly items: PosNode[];
}

const atOf = (node: PosNode): number => (typeof node === 'number' ? node : node.at);

export interface PlainDocument {
  /** The value, as `doc.toJS()` returns it. */
  readonly value: Record<string, unknown>;
  /** Items of the top-level `workflow` list, when it is a list. */
  readonly steps: number | undefined;
  /** Deepest nesting of maps and lists (the top-level map is 1). */
  readonly depth: number;
  readonly positions: PlainPositions;
}

/** Line:column of a path, as SourceMap finds it in a `yaml` document. */
export class PlainPositions {
  constructor(
    private readonly root: PosMap,
    private readonly lines: LineCounter,
  ) {}

  offsetPosition(offset: number): SourcePosition {
    const { line, col } = this.lines.linePos(offset);
    return { line, column: col };
  }

  position(path: Path): SourcePosition {
    let node: PosNode = this.root;
    let best = node.at;
    for (const seg of path) {
      let next: PosNode | undefined;
      if (typeof node === 'number') break;
      if ('keys' in node) next = node.keys.get(String(seg));
      else if (typeof seg === 'number') next = node.items[seg];
      if (next === undefined) break;
      best = atOf(next);
      node = next;
    }
    return this.offsetPosition(best);
  }
}

/** Thrown inside the reader when the text leaves the plain shape; never escapes it. */
class NotPlain extends Error {}
const NOT_PLAIN = new NotPlain('not the plain shape');
const fail = (): never => {
  throw NOT_PLAIN;
};

/** Anything but printable text and newlines (tabs, CR, BOM, controls, astral characters). */
const UNUSUAL = /[^\n\x20-\x7e\u00a1-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd]/;
/** Plain keys read here: a name, optionally dotted or dashed (`ctx.page`, `Content-Type`). */
const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_.\-/]{0,200}$/;
/**
 * The same key where a block map key starts, followed by `:` and a space or the line end. The
 * scans are sticky regular expressions: native code from the first call, where a loop over
 * characters would run in the interpreter until V8 compiles it (most of a cold CLI's parse).
 */
const KEY_AT = /[A-Za-z_][A-Za-z0-9_.\-/]{0,200}(?=:(?:[ \n]|$))/y;
/** Spaces from a point. */
const SPACES = / */y;
/** A quoted scalar on one line, from its opening quote. */
const DOUBLE_QUOTED = /"(?:[^"\\\n]|\\.)*"/y;
const SINGLE_QUOTED = /'(?:[^'\n]|'')*'/y;
/** A plain scalar or key in a flow collection (`#` is left to `yaml`). */
const FLOW_PLAIN = /[^,[\]{}:#\n]*/y;
/** Core-schema null and booleans, which a plain scalar can spell. */
const NULL_WORD = /^(?:~|[Nn]ull|NULL)$/;
const BOOL_WORD = /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/;
/** Integers read here (no sign on zero, no leading zeros, exact as a double). */
const INTEGER = /^(?:0|-?[1-9][0-9]{0,14})$/;
/** First characters of a plain scalar read as a string (numbers, `.inf` and the rest: `yaml`). */
const STRING_START = /[A-Za-z_/$\u00a1-\ufffd]/;

/** Nesting read here at most (the reader recurses; `yaml` checks deeper documents iteratively). */
const MAX_DEPTH = 64;

const SPACE = 32;
const HASH = 35;
const COLON = 58;

interface Line {
  /** Offset of the first non-space character. */
  readonly start: number;
  /** Offset of the line end (the newline or the end of the text). */
  readonly end: number;
  readonly indent: number;
}

class Reader {
  private readonly lines: Line[] = [];
  private index = 0;
  depth = 0;
  steps: number | undefined;

  constructor(
    private readonly text: string,
    counter: LineCounter,
  ) {
    const { length } = text;
    let offset = 0;
    counter.addNewLine(0);
    while (offset <= length) {
      let end = text.indexOf('\n', offset);
      if (end < 0) end = length;
      else counter.addNewLine(end + 1);
      const start = skipSpaces(text, offset);
      if (start < end && text.charCodeAt(start) !== HASH) {
        // Document markers and directives start at column 1.
        const c = text.charCodeAt(offset);
        if (
          start === offset &&
          (c === 37 || text.startsWith('---', offset) || text.startsWith('...', offset))
        )
          fail();
        this.lines.push({ start, end, indent: start - offset });
      }
      offset = end + 1;
    }
  }

  read(): { value: Record<string, unknown>; pos: PosMap } {
    const first = this.lines[0];
    if (!first || first.indent !== 0) fail();
    const { value, pos } = this.blockMap(first!.start, 0, 1);
    if (this.index < this.lines.length) fail();
    return { value, pos };
  }

  private nextIndent(): number {
    const line = this.lines[this.index];
    return line ? line.indent : -1;
  }

  /** Whether the line (from `at`) is a list item: `-` then a space or the line end. */
  private isItem(at: number, end: number): boolean {
    return this.text.charCodeAt(at) === 45 && (at + 1 === end || this.text.charCodeAt(at + 1) === SPACE);
  }

  /** A block map whose first key is at offset `at` of the current line; its keys sit at `column`. */
  private blockMap(
    at: number,
    column: number,
    depth: number,
  ): { value: Record<string, unknown>; pos: PosMap } {
    this.noteDepth(depth);
    const value: Record<string, unknown> = {};
    const keys = new Map<string, PosNode>();
    let start = at;
    for (;;) {
      const line = this.lines[this.index]!;
      const { key, after } = this.key(start, line.end);
      if (keys.has(key)) fail();
      const rest = skipSpaces(this.text, after);
      this.index++;
      if (rest === line.end || this.text.charCodeAt(rest) === HASH) {
        // The value is on the next lines: a more indented block, a list at this indent, or null.
        const indent = this.nextIndent();
        const next = this.lines[this.index];
        if (next && indent > column) {
          const child = this.block(next, depth + 1, start);
          value[key] = child.value;
          keys.set(key, child.pos);
        } else if (next && indent === column && this.isItem(next.start, next.end)) {
          const child = this.blockList(column, depth + 1, start);
          value[key] = child.value;
          keys.set(key, child.pos);
        } else {
          value[key] = null;
          keys.set(key, start);
        }
      } else {
        const child = this.inline(rest, line.end, depth + 1, start);
        value[key] = child.value;
        keys.set(key, child.pos);
      }
      if (key === 'workflow' && depth === 1)
        this.steps = Array.isArray(value[key]) ? value[key].length : undefined;
      const indent = this.nextIndent();
      if (indent < column) break;
      if (indent > column) fail();
      const next = this.lines[this.index]!;
      if (this.isItem(next.start, next.end)) fail(); // a list item where a key belongs
      start = next.start;
    }
    return { value, pos: { at, keys } };
  }

  /** A block list whose items (`- `) sit at `column`, starting with the current line. */
  private blockList(column: number, depth: number, at: number): { value: unknown[]; pos: PosList } {
    this.noteDepth(depth);
    const value: unknown[] = [];
    const items: PosNode[] = [];
    for (;;) {
      const line = this.lines[this.index]!;
      if (line.indent !== column || !this.isItem(line.start, line.end)) fail();
      const rest = skipSpaces(this.text, line.start + 1);
      if (rest === line.end || this.text.charCodeAt(rest) === HASH || this.isItem(rest, line.end)) fail();
      const itemColumn = column + (rest - line.start);
      if (this.startsKey(rest, line.end)) {
        const child = this.blockMap(rest, itemColumn, depth + 1);
        value.push(child.value);
        items.push(child.pos);
      } else {
        this.index++;
        const child = this.inline(rest, line.end, depth + 1, rest);
        value.push(child.value);
        items.push(child.pos);
        if (this.nextIndent() > column) fail();
      }
      const indent = this.nextIndent();
      if (indent < column) break;
      if (indent > column) fail();
      const next = this.lines[this.index]!;
      if (!this.isItem(next.start, next.end)) break; // back to the map this list is a value of
    }
    return { value, pos: { at, items } };
  }

  /** The block that starts at `line` (more indented than its key), reported at `at`. */
  private block(line: Line, depth: number, at: number): { value: unknown; pos: PosNode } {
    if (this.isItem(line.start, line.end)) {
      const list = this.blockList(line.indent, depth, at);
      return { value: list.value, pos: list.pos };
    }
    if (!this.startsKey(line.start, line.end)) fail();
    const map = this.blockMap(line.start, line.indent, depth);
    return { value: map.value, pos: { at, keys: map.pos.keys } };
  }

  /** Whether a block map key starts at `at`: a plain or quoted key, then `:` and a space or the end. */
  private startsKey(at: number, end: number): boolean {
    const c = this.text.charCodeAt(at);
    if (c === 34 || c === 39) {
      const close = this.quotedEnd(at, end);
      return (
        close !== undefined && this.text.charCodeAt(close) === COLON && this.endsIndicator(close + 1, end)
      );
    }
    KEY_AT.lastIndex = at;
    return KEY_AT.test(this.text);
  }

  private endsIndicator(i: number, end: number): boolean {
    return i === end || this.text.charCodeAt(i) === SPACE;
  }

  /** Reads the key at `at` of a block map; `after`: the offset after its colon. */
  private key(at: number, end: number): { key: string; after: number } {
    const c = this.text.charCodeAt(at);
    let key: string;
    let colon: number;
    if (c === 34 || c === 39) {
      const close = this.quotedEnd(at, end);
      if (close === undefined) return fail();
      key = this.quoted(at, close);
      colon = close;
      if (this.text.charCodeAt(colon) !== COLON) fail();
      if (key === '__proto__') fail();
    } else {
      KEY_AT.lastIndex = at;
      if (!KEY_AT.test(this.text)) return fail();
      colon = KEY_AT.lastIndex;
      key = this.text.slice(at, colon);
      if (NULL_WORD.test(key) || BOOL_WORD.test(key) || key === '__proto__') fail();
    }
    if (!this.endsIndicator(colon + 1, end)) fail();
    return { key, after: colon + 1 };
  }

  /** A value from `at` to the line end `end`, a comment and trailing spaces left out. */
  private inline(at: number, end: number, depth: number, pos: number): { value: unknown; pos: PosNode } {
    const c = this.text.charCodeAt(at);
    if (c === 91 || c === 123) {
      const flow = new Flow(this.text, at, end, this);
      const out = flow.collection(depth, pos);
      flow.finish();
      return out;
    }
    if (c === 34 || c === 39) {
      const close = this.quotedEnd(at, end) ?? fail();
      const after = skipSpaces(this.text, close);
      if (after !== end && !(after > close && this.text.charCodeAt(after) === HASH)) fail();
      return { value: this.quoted(at, close), pos };
    }
    let text = this.text.slice(at, end);
    const hash = text.indexOf(' #');
    if (hash >= 0) text = text.slice(0, hash);
    let stop = text.length;
    while (stop > 0 && text.charCodeAt(stop - 1) === SPACE) stop--;
    if (stop < text.length) text = text.slice(0, stop);
    if (text.includes(': ') || text.endsWith(':')) fail();
    return { value: plainScalar(text), pos };
  }

  /** Offset just after the closing quote of a quoted scalar starting at `at` (same line), if any. */
  quotedEnd(at: number, end: number): number | undefined {
    const re = this.text.charCodeAt(at) === 34 ? DOUBLE_QUOTED : SINGLE_QUOTED;
    re.lastIndex = at;
    return re.test(this.text) && re.lastIndex <= end ? re.lastIndex : undefined;
  }

  /** The text of a quoted scalar from `at` to `close` (just after its closing quote). */
  quoted(at: number, close: number): string {
    const inner = this.text.slice(at + 1, close - 1);
    if (this.text.charCodeAt(at) === 39) return inner.includes("''") ? inner.replaceAll("''", "'") : inner;
    if (!inner.includes('\\')) return inner;
    return inner.replace(/\\(.)/g, (_, e: string) => ESCAPES[e] ?? fail());
  }

  /** Records a collection's depth; deeper than MAX_DEPTH is left to `yaml` (and its limit). */
  noteDepth(depth: number): void {
    if (depth > MAX_DEPTH) fail();
    if (depth > this.depth) this.depth = depth;
  }
}

const ESCAPES: Record<string, string> = { '\\': '\\', '"': '"', '/': '/', n: '\n', t: '\t', r: '\r' };

/** A plain scalar in the core schema: null, a boolean, an integer, or a string. */
function plainScalar(text: string): unknown {
  if (NULL_WORD.test(text)) return null;
  if (BOOL_WORD.test(text)) return text[0] === 't' || text[0] === 'T';
  if (INTEGER.test(text)) return Number(text);
  if (!STRING_START.test(text[0]!)) fail();
  return text;
}

/** The offset of the first character that is not a space, from `at`. */
function skipSpaces(text: string, at: number): number {
  SPACES.lastIndex = at;
  SPACES.test(text);
  return SPACES.lastIndex;
}

/** A flow collection on one line: `[a, "b", {c: d}]`. */
class Flow {
  private i: number;

  constructor(
    private readonly text: string,
    at: number,
    private readonly end: number,
    private readonly reader: Reader,
  ) {
    this.i = at;
  }

  private spaces(): void {
    this.i = skipSpaces(this.text, this.i);
  }

  /** After the collection: nothing but spaces or a comment. */
  finish(): void {
    this.spaces();
    if (
      this.i < this.end &&
      !(this.text.charCodeAt(this.i) === HASH && this.text.charCodeAt(this.i - 1) === SPACE)
    )
      fail();
  }

  collection(depth: number, pos: number): { value: unknown; pos: PosNode } {
    this.reader.noteDepth(depth);
    const open = this.text.charCodeAt(this.i);
    const close = open === 91 ? 93 : 125;
    this.i++;
    this.spaces();
    const list: unknown[] = [];
    const items: PosNode[] = [];
    const map: Record<string, unknown> = {};
    const keys = new Map<string, PosNode>();
    if (this.text.charCodeAt(this.i) === close) {
      this.i++;
      return open === 91 ? { value: list, pos: { at: pos, items } } : { value: map, pos: { at: pos, keys } };
    }
    for (;;) {
      if (open === 91) {
        const item = this.value(depth + 1, this.i);
        list.push(item.value);
        items.push(item.pos);
      } else {
        const keyAt = this.i;
        const key = this.key();
        if (keys.has(key)) fail();
        this.spaces();
        const item = this.value(depth + 1, keyAt);
        map[key] = item.value;
        keys.set(key, item.pos);
      }
      this.spaces();
      const c = this.text.charCodeAt(this.i);
      this.i++;
      if (c === close) break;
      if (c !== 44) fail(); // a comma
      this.spaces();
      const after = this.text.charCodeAt(this.i);
      if (after === close || after === 44 || this.i >= this.end) fail(); // trailing or empty entry
    }
    return open === 91 ? { value: list, pos: { at: pos, items } } : { value: map, pos: { at: pos, keys } };
  }

  /** A flow map key and its `: `. */
  private key(): string {
    const at = this.i;
    const c = this.text.charCodeAt(at);
    let key: string;
    if (c === 34 || c === 39) {
      const close = this.reader.quotedEnd(at, this.end) ?? fail();
      key = this.reader.quoted(at, close);
      this.i = close;
      if (key === '__proto__') fail();
    } else {
      this.i = flowPlainEnd(this.text, at);
      key = this.text.slice(at, this.i);
      if (!PLAIN_KEY.test(key) || NULL_WORD.test(key) || BOOL_WORD.test(key) || key === '__proto__') fail();
    }
    if (this.text.charCodeAt(this.i) !== COLON || this.text.charCodeAt(this.i + 1) !== SPACE) fail();
    this.i += 2;
    return key;
  }

  /** A flow value: a nested collection, a quoted or a plain scalar. */
  private value(depth: number, pos: number): { value: unknown; pos: PosNode } {
    const at = this.i;
    const c = this.text.charCodeAt(at);
    if (c === 91 || c === 123) return this.collection(depth, pos);
    if (c === 34 || c === 39) {
      const close = this.reader.quotedEnd(at, this.end) ?? fail();
      this.i = close;
      return { value: this.reader.quoted(at, close), pos };
    }
    this.i = flowPlainEnd(this.text, at);
    let stop = this.i;
    while (stop > at && this.text.charCodeAt(stop - 1) === SPACE) stop--;
    if (stop === at) fail();
    const text = this.text.slice(at, stop);
    const next = this.text.charCodeAt(this.i);
    if (next === COLON || next === HASH) fail(); // `a: b` inside a list (a pair), or a comment
    return { value: plainScalar(text), pos };
  }
}

/** Where a plain scalar or key that starts at `at` in a flow collection ends. */
function flowPlainEnd(text: string, at: number): number {
  FLOW_PLAIN.lastIndex = at;
  FLOW_PLAIN.test(text);
  return FLOW_PLAIN.lastIndex;
}

/**
 * Reads `text` when it has the plain shape (see above), else undefined. `counter` receives the
 * line starts, as the `yaml` parser would fill it.
 */
export function readPlainYaml(text: string): PlainDocument | undefined {
  if (UNUSUAL.test(text)) return undefined;
  const lines = new LineCounter();
  try {
    const reader = new Reader(text, lines);
    const { value, pos } = reader.read();
    return { value, steps: reader.steps, depth: reader.depth, positions: new PlainPositions(pos, lines) };
  } catch (err) {
    if (err === NOT_PLAIN) return undefined;
    throw err;
  }
}
