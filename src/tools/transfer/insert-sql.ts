import type { TransferMode } from './config.js';

/** PostgreSQL's limit of bind parameters per statement. */
export const MAX_PARAMS = 65_535;

/** An identifier as written when it is a plain lower-case name, else double-quoted. */
export function quoteIdent(name: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(name) ? name : `"${name.replace(/"/g, '""')}"`;
}

/** `schema.table` with each part quoted as needed. */
export function quoteTable(table: string): string {
  return table
    .split('.')
    .map((part) => quoteIdent(part.replace(/^"(.*)"$/, '$1')))
    .join('.');
}

/** Rows per INSERT statement for `columns` columns, within the parameter limit. */
export function rowsPerStatement(columns: number, chunkSize: number): number {
  return Math.max(1, Math.min(chunkSize, Math.floor(MAX_PARAMS / Math.max(1, columns))));
}

/**
 * One multi-row INSERT with `$n` placeholders (PostgreSQL and DuckDB both take them); upsert adds
 * `ON CONFLICT (key) DO UPDATE SET col = EXCLUDED.col` for the non-key columns.
 */
export function insertSql(
  table: string,
  columns: readonly string[],
  rows: number,
  mode: TransferMode,
  key: readonly string[],
): string {
  const width = columns.length;
  const tuples: string[] = new Array<string>(rows);
  for (let r = 0; r < rows; r++) {
    const base = r * width;
    const marks = new Array<string>(width);
    for (let c = 0; c < width; c++) marks[c] = `$${base + c + 1}`;
    tuples[r] = `(${marks.join(',')})`;
  }
  let sql = `INSERT INTO ${quoteTable(table)} (${columns.map(quoteIdent).join(', ')}) VALUES ${tuples.join(',')}`;
  if (mode === 'upsert') {
    const keys = new Set(key);
    const updates = columns
      .filter((c) => !keys.has(c))
      .map((c) => `${quoteIdent(c)} = EXCLUDED.${quoteIdent(c)}`);
    sql += ` ON CONFLICT (${key.map(quoteIdent).join(', ')}) DO ${updates.length > 0 ? `UPDATE SET ${updates.join(', ')}` : 'NOTHING'}`;
  }
  return sql;
}

/**
 * Upsert rows with the same key: only the last one is kept (one INSERT ... ON CONFLICT cannot
 * touch a row twice).
 */
export function lastPerKey(
  rows: readonly unknown[][],
  columns: readonly string[],
  key: readonly string[],
): unknown[][] {
  const at = key.map((k) => columns.indexOf(k));
  if (at.some((i) => i < 0)) return [...rows];
  const seen = new Map<string, number>();
  rows.forEach((row, i) => seen.set(JSON.stringify(at.map((c) => row[c] ?? null)), i));
  if (seen.size === rows.length) return [...rows];
  const keep = new Set(seen.values());
  return rows.filter((_, i) => keep.has(i));
}
