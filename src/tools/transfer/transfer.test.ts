import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeApi, type FakeApi } from '../../../test/helpers/fake-api.js';
import { createSchema, dropSchema, pgTarget, PG_URL, withPg } from '../../../test/helpers/pg-scratch.js';
import { templates } from '../../template/index.js';
import { duckdbTool } from '../duckdb/index.js';
import { closePools } from '../postgres/index.js';
import type { ToolContext, ToolServices } from '../types.js';
import { transferTool } from './index.js';
import { insertSql, lastPerKey, quoteTable, rowsPerStatement } from './insert-sql.js';

let schema = '';
let api: FakeApi;
const dir = mkdtempSync(join(tmpdir(), 'noetl-transfer-'));
const duckFile = join(dir, 'x.duckdb');
const TOTAL = 2_345;
const items = Array.from({ length: TOTAL }, (_, i) => ({
  id: i + 1,
  name: `item ${i + 1}`,
  meta: { score: (i % 10) / 2, tags: ['a', 'b'] },
}));

function ctx(services: ToolServices = {}): ToolContext {
  return {
    executionId: 'e1',
    step: 'xfer',
    commandId: 'c1',
    label: 'xfer',
    attempt: 1,
    signal: new AbortController().signal,
    templates: templates(),
    services,
  };
}

async function transfer(
  config: Record<string, unknown>,
  services?: ToolServices,
): Promise<Record<string, unknown>> {
  return (await transferTool.execute(ctx(services), config)).data as Record<string, unknown>;
}

async function sql<T = Record<string, unknown>>(text: string): Promise<T[]> {
  return withPg(
    async (c) => (await c.query(`SET search_path TO ${schema}; ${text}`)) as unknown as { rows: T[] }[],
  ).then((results) => (Array.isArray(results) ? (results[results.length - 1]?.rows ?? []) : []));
}

const pg = (): Record<string, unknown> => ({ type: 'postgres', connection: PG_URL, schema });

beforeAll(async () => {
  schema = await createSchema('noetl_transfer');
  await sql(`CREATE TABLE items (id int PRIMARY KEY, name text, score double precision, tags jsonb, source text);
    CREATE TABLE copy (id int PRIMARY KEY, name text)`);
  api = await startFakeApi((_req, url) => {
    if (url.pathname === '/items') {
      const page = Number(url.searchParams.get('page') ?? 1);
      const size = Number(url.searchParams.get('per_page') ?? 100);
      return { json: { result: { items: items.slice((page - 1) * size, page * size) } } };
    }
    if (url.pathname === '/cursor') {
      const at = Number(url.searchParams.get('after') ?? 0);
      const rows = items.slice(at, at + 500);
      return { json: { rows, next: at + 500 < TOTAL ? String(at + 500) : null } };
    }
    if (url.pathname === '/all') return { json: items.slice(0, 10) };
    if (url.pathname === '/object') return { json: { a: 1, b: [1] } };
    return undefined;
  });
});

afterAll(async () => {
  await api.close();
  await closePools();
  await dropSchema(schema);
  rmSync(dir, { recursive: true, force: true });
});

describe('transfer tool', () => {
  it('moves paged HTTP rows into PostgreSQL with a mapping, in chunks', async () => {
    const data = await transfer({
      source: {
        type: 'http',
        url: `${api.url}/items`,
        data_path: 'result.items',
        pagination: { type: 'page', param: 'page', size_param: 'per_page', size: 300 },
      },
      target: {
        ...pg(),
        table: 'items',
        mapping: { id: 'id', name: 'name', score: 'meta.score', tags: 'meta.tags', source: { value: 'api' } },
      },
      chunk_size: 1000,
    });
    expect(data).toMatchObject({
      rows_read: TOTAL,
      rows_written: TOTAL,
      chunks: 3,
      source_type: 'http',
      target_type: 'postgres',
      mode: 'append',
      columns: ['id', 'name', 'score', 'tags', 'source'],
    });
    expect(api.requests.filter((r) => r.path === '/items')).toHaveLength(Math.ceil(TOTAL / 300));
    const rows = await sql('SELECT count(*)::int AS n, max(score) AS top, min(source) AS src FROM items');
    expect(rows).toEqual([{ n: TOTAL, top: 4.5, src: 'api' }]);
    expect(await sql('SELECT tags FROM items WHERE id = 7')).toEqual([{ tags: ['a', 'b'] }]);
  });

  it('follows a cursor and upserts on a key, keeping the last row of a duplicated key', async () => {
    const data = await transfer({
      source: {
        tool: 'http',
        url: `${api.url}/cursor`,
        data_path: 'rows',
        pagination: { type: 'cursor', param: 'after', cursor_path: 'next' },
      },
      target: { ...pg(), table: 'items', mapping: { id: 'id', name: 'name' } },
      mode: 'upsert',
      key: 'id',
      chunk_size: 700,
    });
    expect(data).toMatchObject({ rows_read: TOTAL, rows_written: TOTAL, chunks: 4 });
    expect(await sql('SELECT count(*)::int AS n FROM items')).toEqual([{ n: TOTAL }]);
    expect(
      lastPerKey(
        [
          [1, 'a'],
          [2, 'b'],
          [1, 'c'],
        ],
        ['id', 'name'],
        ['id'],
      ),
    ).toEqual([
      [2, 'b'],
      [1, 'c'],
    ]);
  });

  it('streams a PostgreSQL query through a cursor into DuckDB, replacing its rows', async () => {
    await duckdbTool.execute(ctx(), {
      db_path: duckFile,
      command: 'CREATE TABLE copy (id INTEGER, name VARCHAR, score DOUBLE)',
    });
    await duckdbTool.execute(ctx(), { db_path: duckFile, command: "INSERT INTO copy VALUES (-1, 'old', 0)" });
    const data = await transfer({
      source: {
        ...pg(),
        query: 'SELECT id, name, score FROM items WHERE id <= $1 ORDER BY id;',
        params: [1000],
      },
      target: { type: 'duckdb', connection: duckFile, table: 'copy' },
      mode: 'replace',
      chunk_size: 256,
    });
    expect(data).toMatchObject({
      rows_read: 1000,
      rows_written: 1000,
      chunks: 4,
      columns: ['id', 'name', 'score'],
    });
    const check = await duckdbTool.execute(ctx(), {
      db_path: duckFile,
      query: 'SELECT count(*) AS n, min(id) AS lo, max(id) AS hi FROM copy',
    });
    expect(check.data).toMatchObject({ rows: [{ n: 1000, lo: 1, hi: 1000 }] });
  });

  it('moves DuckDB rows to PostgreSQL with a credential alias', async () => {
    const t = pgTarget();
    const services: ToolServices = {
      resolveCredential: (alias) =>
        Promise.resolve({
          name: alias,
          type: 'postgres',
          data: {
            db_host: t.host,
            db_port: t.port,
            db_user: t.user,
            db_password: t.password,
            db_name: t.database,
          },
        }),
    };
    const data = await transfer(
      {
        source: { type: 'duckdb', db_path: duckFile, query: 'SELECT id, name FROM copy WHERE id % 2 = 0' },
        target: { type: 'postgres', auth: 'pg_target', schema, table: 'copy' },
        chunk_size: 100,
      },
      services,
    );
    expect(data).toMatchObject({ rows_read: 500, rows_written: 500, chunks: 5 });
    expect(await sql('SELECT count(*)::int AS n FROM copy')).toEqual([{ n: 500 }]);
  });

  it('rolls the whole transfer back when a chunk fails', async () => {
    const err = await transfer({
      source: { type: 'http', url: `${api.url}/all` },
      target: { ...pg(), table: 'copy', mapping: { id: { value: 5 }, name: 'name' } },
      mode: 'replace',
      chunk_size: 4,
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'TOOL_FAILED', details: { sqlstate: '23505' } });
    expect(await sql('SELECT count(*)::int AS n FROM copy')).toEqual([{ n: 500 }]);
  });

  it('explains a response that is not a list, and a missing key for upsert', async () => {
    await expect(
      transfer({ source: { type: 'http', url: `${api.url}/object` }, target: { ...pg(), table: 'copy' } }),
    ).rejects.toThrow(/is not a list; set 'source.data_path'.*keys: a, b/);
    await expect(
      transfer({
        source: { type: 'http', url: `${api.url}/all` },
        target: { ...pg(), table: 'copy' },
        mode: 'upsert',
      }),
    ).rejects.toThrow(/needs 'key'/);
  });
});

describe('insert statements', () => {
  it('stay within 65535 parameters and quote identifiers only when needed', () => {
    expect(rowsPerStatement(70, 1000)).toBe(936);
    expect(rowsPerStatement(3, 1000)).toBe(1000);
    expect(quoteTable('s.MyTable')).toBe('s."MyTable"');
    expect(insertSql('t', ['id', 'Name'], 2, 'upsert', ['id'])).toBe(
      'INSERT INTO t (id, "Name") VALUES ($1,$2),($3,$4) ON CONFLICT (id) DO UPDATE SET "Name" = EXCLUDED."Name"',
    );
    expect(insertSql('t', ['id'], 1, 'upsert', ['id'])).toBe(
      'INSERT INTO t (id) VALUES ($1) ON CONFLICT (id) DO NOTHING',
    );
  });

  it('splits a wide chunk into several statements', async () => {
    const columns = Array.from({ length: 70 }, (_, i) => `c${i}`);
    await sql(`CREATE TABLE wide (${columns.map((c) => `${c} int`).join(', ')})`);
    api.requests.length = 0;
    const rows = Array.from({ length: 1000 }, (_, r) =>
      Object.fromEntries(columns.map((c, i) => [c, r + i])),
    );
    const wide = await startFakeApi(() => ({ json: rows }));
    try {
      const data = await transfer({
        source: { type: 'http', url: wide.url },
        target: { ...pg(), table: 'wide' },
        chunk_size: 1000,
      });
      expect(data).toMatchObject({ rows_written: 1000, chunks: 1 });
    } finally {
      await wide.close();
    }
    expect(await sql('SELECT count(*)::int AS n, max(c69) AS m FROM wide')).toEqual([{ n: 1000, m: 1068 }]);
  });
});
