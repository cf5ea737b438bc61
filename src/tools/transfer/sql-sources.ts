import { CancelledError, errorMessage, isNoetlError, ToolError } from '../../shared/index.js';
import { readDbPath } from '../duckdb/config.js';
import { openDuckdb } from '../duckdb/database.js';
import { bindValue, valueConverter } from '../duckdb/values.js';
import type { PgConnection } from '../postgres/config.js';
import { pgToolError } from '../postgres/errors.js';
import { connectPg } from '../postgres/pool.js';
import type { ToolContext } from '../types.js';
import { KIND, type SqlSource } from './config.js';
import type { Row } from './rows.js';

const CURSOR = 'noetl_transfer_source';

/**
 * Rows of a PostgreSQL query through a server-side cursor (`DECLARE ... CURSOR` then `FETCH n`),
 * so only `fetchSize` rows are in memory at a time. The cursor lives in a transaction of its own
 * client; a source abandoned half-way discards that client.
 */
export async function* pgSourceRows(
  ctx: ToolContext,
  connection: PgConnection,
  source: SqlSource,
  fetchSize: number,
): AsyncGenerator<Row[]> {
  const lease = await connectPg(connection, 'transfer: source', ctx.signal);
  let finished = false;
  let failure: unknown;
  try {
    const { client } = lease;
    await client.query('BEGIN');
    const query = source.query.trim().replace(/;\s*$/, '');
    await client.query({
      text: `DECLARE ${CURSOR} NO SCROLL CURSOR FOR ${query}`,
      values: [...source.params],
    });
    for (;;) {
      const result = await client.query<Row>(`FETCH ${fetchSize} FROM ${CURSOR}`);
      if (result.rows.length > 0) yield result.rows;
      if (result.rows.length < fetchSize) break;
    }
    await client.query(`CLOSE ${CURSOR}`);
    await client.query('COMMIT');
    finished = true;
  } catch (err) {
    failure = err;
    throw pgToolError(err, 'transfer: source', { signal: ctx.signal });
  } finally {
    lease.release(finished ? undefined : (failure ?? new Error('source abandoned')));
  }
}

/** Rows of a DuckDB query, streamed in DuckDB's own chunks. */
export async function* duckdbSourceRows(ctx: ToolContext, source: SqlSource): AsyncGenerator<Row[]> {
  const path = readDbPath(KIND, source.connection);
  const lease = await openDuckdb(path, 'transfer: source', ctx.signal);
  try {
    const converter = valueConverter(lease.duck);
    const params = source.params.length > 0 ? source.params.map(bindValue) : undefined;
    const result = await lease.connection.stream(source.query, params);
    for await (const rows of result.yieldConvertedRowObjects(converter)) yield rows;
  } catch (err) {
    if (isNoetlError(err)) throw err;
    if (ctx.signal.aborted) throw new CancelledError('transfer: cancelled');
    throw new ToolError(`transfer: source: ${errorMessage(err)}`, { cause: err });
  } finally {
    lease.close();
  }
}
