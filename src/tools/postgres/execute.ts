import type { PoolClient, QueryResult } from 'pg';
import type { ToolContext, ToolOutput } from '../types.js';
import { configError } from '../config-helpers.js';
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

/** The worker setting that adds NoETL's older per-statement entries to the data (docs/tools.md). */
export const STATEMENT_RESULTS_ENV = 'NOETL_POSTGRES_STATEMENT_RESULTS';

/**
 * Whether `command_<i>` entries are added: the setting from the host's environment (`noetl run`)
 * or the worker process's own (a worker's tool environment is filtered). Unset or empty is off;
 * a value that is not a boolean fails the step rather than being read as off.
 */
export function statementResultsEnabled(ctx: ToolContext): boolean {
  const raw = ctx.services.env?.[STATEMENT_RESULTS_ENV] || process.env[STATEMENT_RESULTS_ENV] || '';
  const v = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['', '0', 'false', 'no', 'off'].includes(v)) return false;
  throw configError(
    'postgres',
    `${STATEMENT_RESULTS_ENV} must be true or false (1/0, yes/no, on/off), got '${raw}'`,
  );
}

/** Statements NoETL's Python tool ran in autocommit, reporting them as a procedure. */
const AUTOCOMMIT_RE = /^(\s|--[^\n]*(\n|$)|\/\*[\s\S]*?\*\/)*(CALL\b|(CREATE|DROP|ALTER)\s+DATABASE\b)/i;

/**
 * One statement's `command_<i>` entry, in the shape of NoETL's Python postgres tool before
 * 27 March 2026 (noetl/tools/postgres/execution.py): rows as `{status, rows, row_count, columns}`;
 * a CALL or a database DDL without rows `{status, message: 'Procedure executed successfully.'}`;
 * any other `{status, row_count, message}`, `row_count` -1 when the command has no count (DDL),
 * as psycopg's `rowcount`. `rows` is the same array the data's top-level `rows` holds.
 */
function statementEntry(result: AnyResult, sql: string | undefined): Record<string, unknown> {
  if (result.fields.length > 0) {
    return {
      status: 'success',
      rows: result.rows,
      row_count: result.rows.length,
      columns: result.fields.map((f) => f.name),
    };
  }
  if (result.command === 'CALL' || (sql !== undefined && AUTOCOMMIT_RE.test(sql))) {
    return { status: 'success', message: 'Procedure executed successfully.' };
  }
  const count = result.rowCount ?? -1;
  return { status: 'success', row_count: count, message: `Command executed. ${count} rows affected.` };
}

/** The last statement's data plus, when asked, a `command_<i>` entry per statement. */
function scriptData(
  results: readonly AnyResult[],
  sql: string,
  perStatement: boolean,
): Record<string, unknown> {
  const tail = results[results.length - 1];
  if (!tail) throw new Error('the script has no statement');
  const data = pgResultData(tail);
  if (!perStatement) return data;
  // Statement texts only label CALL/DATABASE entries; used when they line up with the results.
  const texts = splitSqlStatements(sql);
  const aligned = texts.length === results.length;
  results.forEach((r, i) => {
    data[`command_${i}`] = statementEntry(r, aligned ? texts[i] : undefined);
  });
  return data;
}

function asList(result: AnyResult | AnyResult[]): AnyResult[] {
  return Array.isArray(result) ? result : [result];
}

/**
 * Runs the script: without params in one simple-protocol round trip (multi-statement allowed,
 * one implicit transaction), with params all but the last statement first, then the last bound.
 * Gives every statement's result, in order.
 */
async function runScript(client: PoolClient, config: PostgresConfig): Promise<AnyResult[]> {
  const rowMode = config.asObjects ? {} : { rowMode: 'array' as const };
  if (config.params.length === 0) {
    // Several statements in one simple query give one result each.
    const results: unknown = await client.query({ text: config.sql, ...rowMode });
    return asList(results as AnyResult | AnyResult[]);
  }
  const statements = splitSqlStatements(config.sql);
  const final = statements.pop() ?? config.sql;
  // Several leading statements give one result each, as above.
  const before: unknown =
    statements.length > 0 ? await client.query({ text: statements.join(';\n'), ...rowMode }) : [];
  const leading = asList(before as AnyResult | AnyResult[]);
  const last = await client.query<AnyRow>({ text: final, values: [...config.params], ...rowMode });
  return [...leading, last];
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
  const perStatement = statementResultsEnabled(ctx);
  const config = readPostgresConfig(await withScript(ctx, rawConfig));
  const results = await withPgClient(config.connection, 'postgres', ctx.signal, (client) =>
    runScript(client, config),
  );
  return { data: scriptData(results, config.sql, perStatement) };
}
