import type { FastifyInstance } from 'fastify';
import { NoetlError } from '../../shared/index.js';
import type { JsonValue } from '../../shared/index.js';
import type { RawQueryResult } from '../../store/index.js';
import type { RouteContext } from './context.js';

/** `/api/db/init`, `/api/db/validate` and `/api/postgres/execute` (SQL against the store's DB). */

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
    'Without parameters the text may hold several statements; the rows of the last one are returned. SQL errors are 400 with the database message.',
  body: {
    type: 'object',
    properties: {
      query: { type: 'string', minLength: 1 },
      query_base64: { type: 'string', minLength: 1 },
      parameters: { type: 'array' },
      schema: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]{0,62}$' },
    },
  },
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

export function registerDatabaseRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.post(
    '/api/db/init',
    { schema: { tags: ['database'], summary: 'Apply pending schema migrations' } },
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
    { schema: { tags: ['database'], summary: 'Check that every required table exists' } },
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

  app.post<{ Body: ExecuteBody }>('/api/postgres/execute', { schema: executeSchema }, async (request) => {
    const body = request.body;
    const sql = sqlOf(body);
    const params = body.parameters ?? [];
    const result =
      body.schema === undefined
        ? await ctx.store.query(sql, params)
        : await ctx.store.tx(async (tx) => {
            await tx.query(`SET LOCAL search_path TO "${body.schema}"`);
            return tx.query(sql, params);
          });
    return { status: 'ok', result: plainRows(result), row_count: result.rowCount, fields: result.fields };
  });
}
