import type { FastifyInstance, preHandlerHookHandler } from 'fastify';
import { isLoopbackHost } from '../../config/index.js';
import { NoetlError, wire } from '../../shared/index.js';
import type { JsonValue } from '../../shared/index.js';
import type { RawQueryResult } from '../../store/index.js';
import type { RouteContext } from './context.js';

/**
 * `/api/db/init`, `/api/db/validate` and `/api/postgres/execute` (SQL against the store's DB).
 *
 * `/api/postgres/execute` is admin SQL: whoever calls it reads and writes every table. On a
 * loopback server it takes the API token like every route (the local user); on any other address
 * it needs the internal token (503 while NOETL_INTERNAL_API_TOKEN is unset). Its statements run
 * in one transaction with `statement_timeout` = NOETL_SQL_STATEMENT_TIMEOUT_SECONDS, so a long
 * statement is cancelled (400) instead of holding a pooled connection. PGlite cannot interrupt a
 * running statement (no signals in WASM): on the embedded store the timeout has no effect, which
 * is one more reason the route is for the local user only there (docs/security.md).
 */

interface ExecuteBody {
  readonly query?: string;
  readonly query_base64?: string;
  readonly parameters?: JsonValue[];
  readonly schema?: string;
}

const executeSchema = {
  tags: ['database'],
  summary: 'Run SQL against the noetl database',
  description:
    'Without parameters the text may hold several statements (one transaction); the rows of the last one are returned. SQL errors are 400 with the database message; a statement running past NOETL_SQL_STATEMENT_TIMEOUT_SECONDS is cancelled (400). On a non-loopback server this route needs the internal token.',
  body: {
    type: 'object',
    properties: {
      query: { type: 'string', minLength: 1 },
      query_base64: { type: 'string', minLength: 1 },
      parameters: { type: 'array' },
      schema: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]{0,62}$' },
    },
  },
  response: { 200: wire.SqlAnswer },
} as const;

function sqlOf(body: ExecuteBody): string {
  if (body.query !== undefined) return body.query;
  if (body.query_base64 !== undefined) {
    const text = Buffer.from(body.query_base64, 'base64').toString('utf8');
    if (text.trim() === '') throw new NoetlError('BAD_REQUEST', 'query_base64 does not decode to SQL text');
    return text;
  }
  throw new NoetlError('BAD_REQUEST', 'give `query` or `query_base64`');
}

/** JSON-safe row values: bigint as string, bytes as base64. */
function plainRows(result: RawQueryResult): Record<string, unknown>[] {
  return result.rows.map((row) => {
    let copy: Record<string, unknown> | undefined;
    for (const [key, value] of Object.entries(row)) {
      let next: unknown = value;
      if (typeof value === 'bigint') next = value.toString();
      else if (value instanceof Uint8Array) next = Buffer.from(value).toString('base64');
      if (next !== value) {
        copy ??= { ...row };
        copy[key] = next;
      }
    }
    return copy ?? row;
  });
}

/** SQLSTATEs of user SQL that are the caller's fault although the driver files them elsewhere. */
const CANCELLED = '57014'; // statement_timeout
const PROTOCOL = '08P01'; // parameters that do not match the statement's placeholders

function sqlStateOf(error: unknown): string | undefined {
  if (!(error instanceof NoetlError)) return undefined;
  const state = error.details?.['sqlstate'];
  return typeof state === 'string' ? state : undefined;
}

/** Maps the failures of user SQL that are not the server's fault to 400. */
function userSqlFailure(error: unknown, timeoutMs: number): unknown {
  const state = sqlStateOf(error);
  if (state === CANCELLED) {
    return new NoetlError(
      'BAD_REQUEST',
      `statement cancelled after ${timeoutMs / 1000} s (NOETL_SQL_STATEMENT_TIMEOUT_SECONDS)`,
      { details: { sqlstate: state, timeout_seconds: timeoutMs / 1000 }, cause: error },
    );
  }
  if (state === PROTOCOL && error instanceof NoetlError) {
    return new NoetlError('BAD_REQUEST', error.message, { details: { sqlstate: state }, cause: error });
  }
  return error;
}

export function registerDatabaseRoutes(app: FastifyInstance, ctx: RouteContext): void {
  // The local user on a loopback server; the internal token anywhere else.
  const adminSql: preHandlerHookHandler | undefined = isLoopbackHost(ctx.config.host)
    ? undefined
    : ctx.requireInternalToken;
  const timeoutMs = ctx.config.sqlStatementTimeoutMs;

  app.post(
    '/api/db/init',
    {
      schema: {
        tags: ['database'],
        summary: 'Apply pending schema migrations',
        response: { 200: wire.DbInit },
      },
    },
    async () => {
      const { applied } = await ctx.store.migrate();
      const validation = await ctx.store.validate();
      return {
        status: validation.valid ? 'ok' : 'error',
        message:
          applied.length > 0
            ? `applied ${applied.length} migration(s): ${applied.join(', ')}`
            : 'schema is up to date',
        valid: validation.valid,
        applied,
      };
    },
  );

  app.get(
    '/api/db/validate',
    {
      schema: {
        tags: ['database'],
        summary: 'Check that every required table exists',
        response: { 200: wire.DbValidate },
      },
    },
    async () => {
      const v = await ctx.store.validate();
      const problems = [
        ...(v.missing.length > 0 ? [`missing tables: ${v.missing.join(', ')}`] : []),
        ...(v.pendingMigrations.length > 0 ? [`pending migrations: ${v.pendingMigrations.join(', ')}`] : []),
      ];
      return {
        status: v.valid ? 'ok' : 'invalid',
        message: v.valid ? 'schema is valid' : problems.join('; '),
        valid: v.valid,
        tables: v.tables,
        missing: v.missing,
        pending_migrations: v.pendingMigrations,
      };
    },
  );

  app.post<{ Body: ExecuteBody }>(
    '/api/postgres/execute',
    { schema: executeSchema, ...(adminSql === undefined ? {} : { preHandler: adminSql }) },
    async (request) => {
      const body = request.body;
      const sql = sqlOf(body);
      const params = body.parameters ?? [];
      let result: RawQueryResult;
      try {
        result = await ctx.store.tx(async (tx) => {
          await tx.query(`SET LOCAL statement_timeout = ${Math.max(1, Math.round(timeoutMs))}`);
          if (body.schema !== undefined) await tx.query(`SET LOCAL search_path TO "${body.schema}"`);
          return tx.query(sql, params);
        });
      } catch (error) {
        throw userSqlFailure(error, timeoutMs);
      }
      return { status: 'ok', result: plainRows(result), row_count: result.rowCount, fields: result.fields };
    },
  );
}
