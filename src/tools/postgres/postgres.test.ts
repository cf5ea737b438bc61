import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSchema, dropSchema, pgTarget, PG_URL } from '../../../test/helpers/pg-scratch.js';
import type { Task } from '../../dsl/index.js';
import { templates } from '../../template/index.js';
import { runTasks } from '../pipeline.js';
import { defaultRegistry } from '../registry.js';
import type { CredentialRecord, ToolContext, ToolServices } from '../types.js';
import { closePools, postgresTool } from './index.js';
import { splitSqlStatements } from './split-sql.js';

let schema = '';
const target = pgTarget();

function ctx(signal = new AbortController().signal, services: ToolServices = {}): ToolContext {
  return {
    executionId: 'e1',
    step: 'pg',
    commandId: 'c1',
    label: 'pg',
    attempt: 1,
    signal,
    templates: templates(),
    services,
  };
}

async function pgRun(config: Record<string, unknown>, signal?: AbortSignal): Promise<unknown> {
  return (await postgresTool.execute(ctx(signal), { connection_string: PG_URL, schema, ...config })).data;
}

/** A run with NOETL_POSTGRES_STATEMENT_RESULTS set to `setting` (as `noetl run` passes the host env). */
async function pgRunWith(setting: string, config: Record<string, unknown>): Promise<Record<string, unknown>> {
  const services: ToolServices = { env: { NOETL_POSTGRES_STATEMENT_RESULTS: setting } };
  const out = await postgresTool.execute(ctx(undefined, services), {
    connection_string: PG_URL,
    schema,
    ...config,
  });
  return out.data as Record<string, unknown>;
}

beforeAll(async () => {
  schema = await createSchema('noetl_pgtool');
});

afterAll(async () => {
  await closePools();
  await dropSchema(schema);
});

describe('postgres tool', () => {
  it('returns {columns, rows, row_count} with positional params and JSON-friendly values', async () => {
    const data = await pgRun({
      query: `SELECT $1::int AS a, $2::text AS b, 42::int8 AS small, 9007199254740993::int8 AS big,
        12.50::numeric AS price, 1234567890.1234567890123::numeric AS exact,
        DATE '2024-02-03' AS d, TIMESTAMP '2024-02-03 04:05:06.789' AS ts,
        TIMESTAMPTZ '2024-02-03 04:05:06+00' AS tz, '{"k": [1, 2]}'::jsonb AS j,
        ARRAY[1, 2]::int8[] AS ids, NULL::text AS n`,
      params: [7, 'x'],
    });
    expect(data).toEqual({
      columns: ['a', 'b', 'small', 'big', 'price', 'exact', 'd', 'ts', 'tz', 'j', 'ids', 'n'],
      rows: [
        {
          a: 7,
          b: 'x',
          small: 42,
          big: '9007199254740993',
          price: 12.5,
          exact: '1234567890.1234567890123',
          d: '2024-02-03',
          ts: '2024-02-03T04:05:06.789',
          tz: expect.stringMatching(/^2024-02-03T\d\d:05:06[+-]\d\d:\d\d$/) as unknown,
          j: { k: [1, 2] },
          ids: [1, 2],
          n: null,
        },
      ],
      row_count: 1,
    });
  });

  it('runs multi-statement scripts and returns the last result; {affected_rows} without rows', async () => {
    expect(
      await pgRun({
        command: `CREATE TABLE items (id int PRIMARY KEY, name text);
          INSERT INTO items VALUES (1, 'a;b'), (2, $$semi;colon$$);
          -- a comment; with a semicolon
          INSERT INTO items VALUES (3, 'c');`,
      }),
    ).toEqual({ affected_rows: 1 });
    expect(await pgRun({ query: 'UPDATE items SET name = name' })).toEqual({ affected_rows: 3 });
    expect(
      await pgRun({ query: 'SELECT 1; SELECT id, name FROM items ORDER BY id', as_objects: false }),
    ).toEqual({
      columns: ['id', 'name'],
      rows: [
        [1, 'a;b'],
        [2, 'semi;colon'],
        [3, 'c'],
      ],
      row_count: 3,
    });
  });

  it('binds params to the last statement of a script', async () => {
    const data = await pgRun({
      query: "INSERT INTO items VALUES (10, 'x;y'); SELECT name FROM items WHERE id = $1",
      params: [10],
    });
    expect(data).toMatchObject({ rows: [{ name: 'x;y' }], row_count: 1 });
  });

  it('adds a command_<i> entry per statement, in the older NoETL shape, when the setting is on', async () => {
    const data = await pgRunWith('1', {
      command: `CREATE TABLE stmt_items (id int PRIMARY KEY, name text);
        INSERT INTO stmt_items VALUES (1, 'a'), (2, 'b');
        UPDATE stmt_items SET name = name || '!' WHERE id = 3;
        SELECT id, name FROM stmt_items ORDER BY id`,
    });
    const rows = [
      { id: 1, name: 'a' },
      { id: 2, name: 'b' },
    ];
    expect(data).toEqual({
      columns: ['id', 'name'],
      rows,
      row_count: 2,
      command_0: { status: 'success', row_count: -1, message: 'Command executed. -1 rows affected.' },
      command_1: { status: 'success', row_count: 2, message: 'Command executed. 2 rows affected.' },
      command_2: { status: 'success', row_count: 0, message: 'Command executed. 0 rows affected.' },
      command_3: { status: 'success', rows, row_count: 2, columns: ['id', 'name'] },
    });
    // The last entry holds the very rows of the data: no copy in memory (JSON writes them twice).
    expect((data['command_3'] as Record<string, unknown>)['rows']).toBe(data['rows']);
    // Key order as NoETL's tool wrote it.
    expect(Object.keys(data['command_3'] as object)).toEqual(['status', 'rows', 'row_count', 'columns']);

    // A single statement: command_0 is the statement itself (what `step.command_0.rows` reads).
    const one = await pgRunWith('true', { query: 'SELECT count(*) AS n FROM stmt_items' });
    expect(one).toMatchObject({ rows: [{ n: 2 }], command_0: { status: 'success', rows: [{ n: 2 }] } });
    expect(Object.keys(one).filter((k) => k.startsWith('command_'))).toEqual(['command_0']);

    // The last statement without rows keeps {affected_rows}; entries carry the counts.
    expect(
      await pgRunWith('on', {
        query: "DELETE FROM stmt_items WHERE id = 2; INSERT INTO stmt_items VALUES (5, 'e')",
      }),
    ).toEqual({
      affected_rows: 1,
      command_0: { status: 'success', row_count: 1, message: 'Command executed. 1 rows affected.' },
      command_1: { status: 'success', row_count: 1, message: 'Command executed. 1 rows affected.' },
    });
  });

  it('gives statement entries with params, as arrays with as_objects false, and CALL as a procedure', async () => {
    expect(
      await pgRunWith('yes', {
        query: "INSERT INTO stmt_items VALUES (7, 'g'); SELECT name FROM stmt_items WHERE id = $1",
        params: [7],
        as_objects: false,
      }),
    ).toEqual({
      columns: ['name'],
      rows: [['g']],
      row_count: 1,
      command_0: { status: 'success', row_count: 1, message: 'Command executed. 1 rows affected.' },
      command_1: { status: 'success', rows: [['g']], row_count: 1, columns: ['name'] },
    });
    await pgRun({ query: 'CREATE PROCEDURE stmt_touch() LANGUAGE sql AS $$ SELECT 1 $$' });
    expect(await pgRunWith('1', { query: '-- a note\nCALL stmt_touch()' })).toEqual({
      affected_rows: 0,
      command_0: { status: 'success', message: 'Procedure executed successfully.' },
    });
  });

  it('leaves the data as NoETL gives it today when the setting is off, and refuses a non-boolean', async () => {
    for (const off of ['', '0', 'false', 'off']) {
      const data = await pgRunWith(off, { query: 'SELECT 1 AS one; SELECT 2 AS two' });
      expect(data).toEqual({ columns: ['two'], rows: [{ two: 2 }], row_count: 1 });
    }
    await expect(pgRunWith('2', { query: 'SELECT 1' })).rejects.toMatchObject({
      code: 'TOOL_FAILED',
      message:
        "postgres: NOETL_POSTGRES_STATEMENT_RESULTS must be true or false (1/0, yes/no, on/off), got '2'",
    });
  });

  it('reports SQL errors with their SQLSTATE; transient ones are retryable', async () => {
    const syntax = await pgRun({ query: 'SELECT COUNT(*) as n, FROM items' }).catch((e: unknown) => e);
    expect(syntax).toMatchObject({
      code: 'TOOL_FAILED',
      retryable: false,
      message: expect.stringContaining('syntax error at or near "FROM"') as unknown,
      details: { sqlstate: '42601' },
    });
    const serialization = await pgRun({
      query: "DO $$ BEGIN RAISE EXCEPTION 'conflict' USING ERRCODE = '40001'; END $$",
    }).catch((e: unknown) => e);
    expect(serialization).toMatchObject({ retryable: true, details: { sqlstate: '40001' } });
    // The failed client was discarded: the pool still works.
    expect(await pgRun({ query: 'SELECT 1 AS one' })).toMatchObject({ rows: [{ one: 1 }] });
  });

  it('fails retryably when the server cannot be reached', async () => {
    const err = await postgresTool
      .execute(ctx(), { host: '127.0.0.1', port: 1, database: 'x', user: 'x', query: 'SELECT 1' })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'TOOL_FAILED', retryable: true });
    expect((err as Error).message).toMatch(/cannot connect to 127\.0\.0\.1:1\/x.*ECONNREFUSED/);
  });

  it('applies timeout_seconds as statement_timeout and cancels on abort', async () => {
    await expect(pgRun({ query: 'SELECT pg_sleep(5)', timeout_seconds: 0.2 })).rejects.toMatchObject({
      code: 'TOOL_TIMEOUT',
    });
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 200);
    await expect(pgRun({ query: 'SELECT pg_sleep(5)' }, controller.signal)).rejects.toMatchObject({
      code: 'CANCELLED',
    });
    expect(Date.now() - started).toBeLessThan(4000);
  });

  it('needs a connection', async () => {
    await expect(postgresTool.execute(ctx(), { query: 'SELECT 1' })).rejects.toMatchObject({
      message: expect.stringContaining("'auth: <credential alias>'") as unknown,
    });
  });

  it('resolves `auth: <alias>` through the pipeline with the contract field names', async () => {
    const resolved: string[] = [];
    const credentials: Record<string, CredentialRecord> = {
      pg_db: {
        name: 'pg_db',
        type: 'postgres',
        data: {
          db_host: target.host,
          db_port: target.port,
          db_user: target.user,
          db_password: target.password,
          db_name: target.database,
        },
      },
      api: { name: 'api', type: 'bearer', data: { token: 't' } },
    };
    const services: ToolServices = {
      resolveCredential: (alias) => {
        resolved.push(alias);
        const hit = credentials[alias];
        return hit ? Promise.resolve(hit) : Promise.reject(new Error(`no ${alias}`));
      },
    };
    const task = (auth: string): Task => ({
      label: 'q',
      kind: 'postgres',
      config: { auth, schema, query: 'SELECT count(*) AS n FROM items' },
    });
    const run = (auth: string) =>
      runTasks(
        {
          spec: { shape: 'single', tasks: [task(auth)] },
          scope: { alias: auth },
          executionId: 'e',
          step: 'q',
          commandId: 'c',
        },
        {
          registry: defaultRegistry(),
          services,
          templates: templates(),
          signal: new AbortController().signal,
        },
      );
    const ok = await run('pg_db');
    expect(ok).toMatchObject({ status: 'success', data: { rows: [{ n: 4 }] } });
    const wrong = await run('api');
    expect(wrong).toMatchObject({
      status: 'error',
      error: {
        code: 'CREDENTIAL_UNSUPPORTED',
        message: expect.stringContaining('(supported: postgres)') as unknown,
      },
    });
    expect(resolved).toEqual(['pg_db', 'api']);
  });
});

describe('splitSqlStatements', () => {
  it('splits at top-level semicolons only', () => {
    expect(
      splitSqlStatements(`SELECT 'a;''b'; SELECT E'\\';'; SELECT "x;y" FROM t;
        CREATE FUNCTION f() RETURNS int AS $fn$ SELECT 1; $fn$ LANGUAGE sql;
        /* c; /* nested; */ */ SELECT 2 -- tail;
        ;`),
    ).toEqual([
      "SELECT 'a;''b'",
      "SELECT E'\\';'",
      'SELECT "x;y" FROM t',
      'CREATE FUNCTION f() RETURNS int AS $fn$ SELECT 1; $fn$ LANGUAGE sql',
      '/* c; /* nested; */ */ SELECT 2 -- tail;',
    ]);
  });
});
