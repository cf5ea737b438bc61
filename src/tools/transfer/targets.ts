import { createHash } from 'node:crypto';
import type { DuckDBPreparedStatement } from '@duckdb/node-api';
import { CancelledError, errorMessage, isNoetlError, ToolError } from '../../shared/index.js';
import { openDuckdb } from '../duckdb/database.js';
import { bindValue } from '../duckdb/values.js';
import type { PgConnection } from '../postgres/config.js';
import { pgToolError } from '../postgres/errors.js';
import { connectPg } from '../postgres/pool.js';
import type { TransferMode } from './config.js';
import { insertSql, lastPerKey, quoteTable, rowsPerStatement } from './insert-sql.js';

/**
 * Where a transfer writes: one transaction for the whole transfer (a failed transfer leaves the
 * table as it was; `replace` swaps the contents atomically), one multi-row INSERT per
 * statement-sized slice of a chunk.
 */
export interface TargetWriter {
  begin(): Promise<void>;
  /** Writes rows (values in `columns` order); returns the rows the database reports written. */
  write(columns: readonly string[], rows: unknown[][]): Promise<number>;
  commit(): Promise<void>;
  /** Rolls back and lets go of the connection; never throws. */
  abort(): Promise<void>;
}

export interface TargetOptions {
  readonly table: string;
  readonly mode: TransferMode;
  readonly key: readonly string[];
  readonly chunkSize: number;
  readonly signal: AbortSignal;
}

/** A value as a pg parameter: maps and lists as JSON text, dates as ISO text. */
function pgValue(value: unknown): unknown {
  if (value === undefined || value === null) return null;
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object') return JSON.stringify(value);
  return value;
}

function slices(rows: unknown[][], size: number): unknown[][][] {
  if (rows.length <= size) return [rows];
  const out: unknown[][][] = [];
  for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size));
  return out;
}

export async function pgTarget(connection: PgConnection, options: TargetOptions): Promise<TargetWriter> {
  const lease = await connectPg(connection, 'transfer: target', options.signal);
  const { client } = lease;
  const fail = (err: unknown): Error => pgToolError(err, 'transfer: target', { signal: options.signal });
  // Statement text by row count (the columns are fixed for a transfer); full-size slices repeat
  // the same text, so they use a named statement, parsed once per connection.
  const statements = new Map<number, { text: string; name?: string }>();
  const statement = (
    columns: readonly string[],
    rows: number,
    full: boolean,
  ): { text: string; name?: string } => {
    let hit = statements.get(rows);
    if (!hit) {
      const text = insertSql(options.table, columns, rows, options.mode, options.key);
      hit = full
        ? { text, name: `noetl_tx_${createHash('sha1').update(text).digest('hex').slice(0, 20)}` }
        : { text };
      if (full) statements.set(rows, hit);
    }
    return hit;
  };
  let open = false;
  return {
    async begin() {
      try {
        await client.query('BEGIN');
        open = true;
        if (options.mode === 'replace') await client.query(`TRUNCATE ${quoteTable(options.table)}`);
      } catch (err) {
        throw fail(err);
      }
    },
    async write(columns, rows) {
      const all = options.mode === 'upsert' ? lastPerKey(rows, columns, options.key) : rows;
      const per = rowsPerStatement(columns.length, options.chunkSize);
      let written = 0;
      try {
        for (const slice of slices(all, per)) {
          const { text, name } = statement(columns, slice.length, slice.length === per);
          const values: unknown[] = [];
          for (const row of slice) for (const v of row) values.push(pgValue(v));
          const result = await client.query({ text, values, ...(name !== undefined ? { name } : {}) });
          written += result.rowCount ?? slice.length;
        }
      } catch (err) {
        throw fail(err);
      }
      return written;
    },
    async commit() {
      try {
        await client.query('COMMIT');
        open = false;
        lease.release();
      } catch (err) {
        throw fail(err);
      }
    },
    async abort() {
      if (open) await client.query('ROLLBACK').catch(() => undefined);
      lease.release(new Error('transfer aborted'));
    },
  };
}

export async function duckdbTarget(path: string, options: TargetOptions): Promise<TargetWriter> {
  const lease = await openDuckdb(path, 'transfer: target', options.signal);
  const { connection } = lease;
  const prepared = new Map<string, DuckDBPreparedStatement>();
  const fail = (err: unknown): Error => {
    if (isNoetlError(err)) return err;
    if (options.signal.aborted) return new CancelledError('transfer: cancelled');
    return new ToolError(`transfer: target: ${errorMessage(err)}`, { cause: err });
  };
  const close = (): void => {
    for (const statement of prepared.values()) statement.destroySync();
    prepared.clear();
    lease.close();
  };
  let open = false;
  return {
    async begin() {
      try {
        await connection.run('BEGIN TRANSACTION');
        open = true;
        if (options.mode === 'replace') await connection.run(`DELETE FROM ${quoteTable(options.table)}`);
      } catch (err) {
        throw fail(err);
      }
    },
    async write(columns, rows) {
      const all = options.mode === 'upsert' ? lastPerKey(rows, columns, options.key) : rows;
      const per = rowsPerStatement(columns.length, options.chunkSize);
      let written = 0;
      try {
        for (const slice of slices(all, per)) {
          const full = slice.length === per;
          let statement = full ? prepared.get(String(per)) : undefined;
          if (!statement) {
            statement = await connection.prepare(
              insertSql(options.table, columns, slice.length, options.mode, options.key),
            );
            if (full) prepared.set(String(per), statement);
          }
          const values = [];
          for (const row of slice) for (const v of row) values.push(bindValue(v));
          statement.bind(values);
          const result = await statement.run();
          written += result.rowsChanged;
          if (!full) statement.destroySync();
        }
      } catch (err) {
        throw fail(err);
      }
      return written;
    },
    async commit() {
      try {
        await connection.run('COMMIT');
        open = false;
      } catch (err) {
        throw fail(err);
      } finally {
        if (!open) close();
      }
    },
    async abort() {
      if (open) await connection.run('ROLLBACK').catch(() => undefined);
      open = false;
      close();
    },
  };
}
