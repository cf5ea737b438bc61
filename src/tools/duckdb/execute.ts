import type { DuckDBConnection } from '@duckdb/node-api';
import { CancelledError, errorMessage, isNoetlError, ToolError } from '../../shared/index.js';
import type { ToolContext, ToolOutput } from '../types.js';
import { readDuckdbConfig, type DuckdbConfig } from './config.js';
import { withDuckdb, type DuckdbModule } from './database.js';
import { bindValue, valueConverter } from './values.js';

function bound(
  params: DuckdbConfig['params'],
): ReturnType<typeof bindValue>[] | Record<string, ReturnType<typeof bindValue>> | undefined {
  if (Array.isArray(params)) return params.length > 0 ? params.map(bindValue) : undefined;
  const entries = Object.entries(params);
  return entries.length > 0 ? Object.fromEntries(entries.map(([k, v]) => [k, bindValue(v)])) : undefined;
}

/**
 * Runs the script (multi-statement allowed: every statement runs, the last one's result is
 * returned; with params, the last statement is the one bound).
 */
async function run(
  connection: DuckDBConnection,
  duck: DuckdbModule,
  config: DuckdbConfig,
): Promise<Record<string, unknown>> {
  const params = bound(config.params);
  const result = await connection.run(config.sql, params);
  const converter = valueConverter(duck);
  if (result.returnType !== duck.ResultReturnType.QUERY_RESULT) {
    return { affected_rows: result.rowsChanged };
  }
  const columns = config.asObjects ? result.deduplicatedColumnNames() : result.columnNames();
  const rows = config.asObjects
    ? await result.convertRowObjects(converter)
    : await result.convertRows(converter);
  return { columns, rows, row_count: rows.length };
}

export async function executeDuckdb(
  ctx: ToolContext,
  rawConfig: Readonly<Record<string, unknown>>,
): Promise<ToolOutput> {
  const config = readDuckdbConfig(rawConfig);
  try {
    const data = await withDuckdb(config.dbPath, 'duckdb', ctx.signal, (connection, duck) =>
      run(connection, duck, config),
    );
    return { data };
  } catch (err) {
    if (isNoetlError(err)) throw err;
    if (ctx.signal.aborted) throw new CancelledError('duckdb: cancelled');
    throw new ToolError(`duckdb: ${errorMessage(err)}`, { cause: err });
  }
}
