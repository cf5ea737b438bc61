import { isAlias, isMap, isScalar, isSeq, type Document, type LineCounter } from 'yaml';
import type { Path } from './raw.js';
import type { SourcePosition } from './types.js';

const ORIGIN: SourcePosition = { line: 1, column: 1 };

function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  if (typeof key === 'string' || typeof key === 'number') return String(key);
  return undefined;
}

function nodeStart(node: unknown): number | undefined {
  if (node !== null && typeof node === 'object' && 'range' in node) {
    const range = (node as { range?: readonly number[] | null }).range;
    return range?.[0];
  }
  return undefined;
}

/**
 * Maps a path in the raw value back to a line:column of the YAML source. A path that ends at a
 * map key points at the key (`workflow:`, `step:`); a list item points at its first token. When
 * the path does not exist (a missing key), the deepest existing ancestor is used, so a problem
 * always points somewhere near its cause.
 */
export class SourceMap {
  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  offsetPosition(offset: number): SourcePosition {
    const { line, col } = this.lines.linePos(offset);
    return { line, column: col };
  }

  private at(node: unknown, fallback: SourcePosition): SourcePosition {
    const start = nodeStart(node);
    return start === undefined ? fallback : this.offsetPosition(start);
  }

  position(path: Path): SourcePosition {
    let node: unknown = this.doc.contents;
    let best = this.at(node, ORIGIN);
    for (const seg of path) {
      if (isAlias(node)) node = node.resolve(this.doc);
      if (isMap(node)) {
        const pair = node.items.find((p) => keyText(p.key) === String(seg));
        if (!pair) break;
        best = this.at(pair.key, best);
        node = pair.value;
      } else if (isSeq(node) && typeof seg === 'number') {
        const item: unknown = node.items[seg];
        if (item === undefined) break;
        best = this.at(item, best);
        node = item;
      } else {
        break;
      }
    }
    return best;
  }
}
