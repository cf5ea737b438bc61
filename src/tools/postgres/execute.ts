import type { PoolClient, QueryResult } from 'pg';
import type { ToolContext, ToolOutput } from '../types.js';
import { loadScript, readScriptSource } from '../script-source.js';
import { readPostgresConfig, type PostgresConfig } from './config.js';
import { withPgClient } from './pool.js';
import { splitSqlStatements } from './split-sql.js';

/** `{columns, rows, row_count}` for a statement returning rows, else `{affected_rows}` (contract 2). */
export function pgResultData(
  result: QueryResult<unknown[] | Record<string, unknown>>,
): Record<string, unknown> {
  if (result.fields.length === 0) return { affected_rows: result.rowCount ?? 0 };
  return {
    columns: result.fields.map((f) => f.name),
    rows: result.rows,
    row_count: result.rows.length,
  };
}

type AnyRow = unknown[] | Record<string, unknown>;
type AnyResult = QueryResult<AnyRow>;

function last(result: AnyResult | AnyResult[]): AnyResult {
  if (!Array.isArray(result)) return result;
  const tail = result[result.length - 1];
  if (!tail) throw new Error('the script has no statement');
  return tail;
}

/**
 * Runs the script: without params in one simple-protocol round trip (multi-statement allowed,
 * one implicit transaction), with params all but the last statement first, then the last bound.
 */
async function runScript(client: PoolClient, config: PostgresConfig): Promise<AnyResult> {
  const rowMode = config.asObjects ? {} : { rowMode: 'array' as const };
  if (config.params.length === 0) {
    // Several statements in one simple query give one result each.
    const results: unknown = await client.query({ text: config.sql, ...rowMode });
    return last(results as AnyResult | AnyResult[]);
  }
  const statements = splitSqlStatements(config.sql);
  const final = statements.pop() ?? config.sql;
  if (statements.length > 0) await client.query(statements.join(';\n'));
  return client.query<AnyRow>({ text: final, values: [...config.params], ...rowMode });
}

/**
 * `script:` (a file of SQL, inline, or an http URL; see script-source.ts) when no `query`,
 * `command`, `sql` or `statement` is given: its text becomes the query. It is not rendered.
 */
async function withScript(
  ctx: ToolContext,
  config: Readonly<Record<string, unknown>>,
): Promise<Readonly<Record<string, unknown>>> {
  const script = config['script'];
  const given = ['query', 'command', 'sql', 'statement'].some(
    (k) => config[k] !== undefined && config[k] !== null,
  );
  if (given || script === undefined || script === null) return config;
  const { code } = await loadScript('postgres', readScriptSource('postgres', script), ctx);
  return { ...config, query: code };
}

export async function executePostgres(
  ctx: ToolContext,
  rawConfig: Readonly<Record<string, unknown>>,
): Promise<ToolOutput> {
  const config = readPostgresConfig(await withScript(ctx, rawConfig));
  const result = await withPgClient(config.connection, 'postgres', ctx.signal, (client) =>
    runScript(client, config),
  );
  return { data: pgResultData(result) };
}
