import { isPlainObject } from '../../shared/index.js';
import type { ColumnSource } from './config.js';

export type Row = Readonly<Record<string, unknown>>;

/** The value at a dotted path (`a.b.0.c`; a leading `$.` is ignored); a literal key wins. */
export function valueAt(value: unknown, path: string): unknown {
  if (isPlainObject(value) && Object.prototype.hasOwnProperty.call(value, path)) return value[path];
  let current = value;
  for (const part of path.replace(/^\$\.?/, '').split('.')) {
    if (part === '') continue;
    if (Array.isArray(current)) current = current[Number(part)];
    else if (isPlainObject(current)) current = current[part];
    else return undefined;
  }
  return current;
}

/** Reads one target column from a source row. */
export type ColumnReader = (row: Row) => unknown;

export interface RowShape {
  readonly columns: readonly string[];
  readonly readers: readonly ColumnReader[];
}

/**
 * The target columns and how to fill them: the mapping's (target column <- source field path or
 * constant), else the fields of the first source row, read by name (missing fields are null).
 */
export function rowShape(mapping: ReadonlyMap<string, ColumnSource> | undefined, first: Row): RowShape {
  if (!mapping) {
    const columns = Object.keys(first);
    return { columns, readers: columns.map((c) => (row: Row) => row[c]) };
  }
  const columns: string[] = [];
  const readers: ColumnReader[] = [];
  for (const [column, source] of mapping) {
    columns.push(column);
    if ('path' in source) {
      const path = source.path;
      const simple = !path.includes('.');
      readers.push(simple ? (row) => row[path] : (row) => valueAt(row, path));
    } else {
      const constant = source.value;
      readers.push(() => constant);
    }
  }
  return { columns, readers };
}

/** Re-slices a stream of row batches into chunks of exactly `size` rows (the last may be smaller). */
export async function* rechunk(
  source: AsyncIterable<readonly Row[]>,
  size: number,
): AsyncGenerator<Row[], void> {
  let buffer: Row[] = [];
  for await (const batch of source) {
    let offset = 0;
    while (offset < batch.length) {
      const take = Math.min(size - buffer.length, batch.length - offset);
      if (buffer.length === 0 && take === size) {
        yield batch.slice(offset, offset + take);
      } else {
        for (let i = 0; i < take; i++) buffer.push(batch[offset + i] as Row);
        if (buffer.length === size) {
          yield buffer;
          buffer = [];
        }
      }
      offset += take;
    }
  }
  if (buffer.length > 0) yield buffer;
}
