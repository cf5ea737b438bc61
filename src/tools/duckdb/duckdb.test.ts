import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { templates } from '../../template/index.js';
import type { ToolContext } from '../types.js';
import { readDbPath } from './config.js';
import { duckdbTool } from './index.js';

const dir = mkdtempSync(join(tmpdir(), 'noetl-duckdb-'));
const ctx: ToolContext = {
  executionId: 'e1',
  step: 'd',
  commandId: 'c1',
  label: 'd',
  attempt: 1,
  signal: new AbortController().signal,
  templates: templates(),
  services: {},
};

async function duck(config: Record<string, unknown>): Promise<unknown> {
  return (await duckdbTool.execute(ctx, { db: ':memory:', ...config })).data;
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('duckdb tool', () => {
  it('runs a multi-statement script and returns the last result (duckdb_test)', async () => {
    expect(
      await duck({
        database: ':memory:',
        query: `CREATE TABLE users (id INTEGER, name VARCHAR, age INTEGER);
          INSERT INTO users VALUES (1, 'Alice', 30), (2, 'Bob', 25), (3, 'Charlie', 35);
          SELECT name, age FROM users WHERE age >= 30 ORDER BY age;`,
      }),
    ).toEqual({
      columns: ['name', 'age'],
      rows: [
        { name: 'Alice', age: 30 },
        { name: 'Charlie', age: 35 },
      ],
      row_count: 2,
    });
  });

  it('binds positional and named params; 64-bit integers are numbers when safe', async () => {
    expect(
      await duck({
        query: `SELECT $1::INTEGER + 1 AS a, $2 AS b, 42::BIGINT AS small, 9007199254740993::BIGINT AS big,
          sum(x)::HUGEINT AS total, 12.50::DECIMAL(10, 2) AS price, DATE '2024-02-03' AS d,
          TIMESTAMP '2024-02-03 04:05:06' AS ts, [1, 2]::BIGINT[] AS ids FROM range(3) t(x)`,
        params: [1, 'x'],
      }),
    ).toMatchObject({
      rows: [
        {
          a: 2,
          b: 'x',
          small: 42,
          big: '9007199254740993',
          total: 3,
          price: 12.5,
          d: '2024-02-03',
          ts: '2024-02-03T04:05:06',
          ids: [1, 2],
        },
      ],
    });
    expect(await duck({ query: 'SELECT $n * 2 AS v', params: { n: 21 } })).toMatchObject({
      rows: [{ v: 42 }],
    });
  });

  it('returns rows as arrays with as_objects: false and {affected_rows} without rows', async () => {
    expect(await duck({ query: 'SELECT 1 AS a, 2 AS b', as_objects: false })).toEqual({
      columns: ['a', 'b'],
      rows: [[1, 2]],
      row_count: 1,
    });
    expect(await duck({ command: 'CREATE TABLE t (a INT); INSERT INTO t VALUES (1), (2)' })).toEqual({
      affected_rows: 2,
    });
  });

  it('keeps data in a database file between steps, shared by concurrent steps', async () => {
    const file = join(dir, 'sub', 'state.duckdb');
    await duck({ db_path: file, command: 'CREATE TABLE kv (k VARCHAR, v INTEGER)' });
    await Promise.all(
      [1, 2, 3, 4].map((i) =>
        duck({ db_path: file, command: 'INSERT INTO kv VALUES ($1, $2)', params: [`k${i}`, i] }),
      ),
    );
    expect(await duck({ db_path: file, query: 'SELECT count(*) AS n, sum(v) AS s FROM kv' })).toMatchObject({
      rows: [{ n: 4, s: 10 }],
    });
  });

  it('reports SQL errors as step errors', async () => {
    await expect(duck({ query: 'SELEC 1' })).rejects.toMatchObject({
      code: 'TOOL_FAILED',
      message: expect.stringMatching(/^duckdb: .*syntax error/i) as unknown,
    });
  });

  it('defaults db_path to .noetl/state.duckdb under the working directory', () => {
    expect(readDbPath('duckdb', {})).toBe(join(process.cwd(), '.noetl', 'state.duckdb'));
    expect(readDbPath('duckdb', { db: 'a/b.duckdb' })).toBe(join(process.cwd(), 'a', 'b.duckdb'));
    expect(readDbPath('duckdb', { db_path: ':memory:' })).toBe(':memory:');
  });
});
