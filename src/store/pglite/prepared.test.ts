import { PGlite, type Transaction } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PreparedStatements, REPLAN_FIRST, sqlLiteral } from './prepared.js';

let db: PGlite;

beforeAll(async () => {
  db = await PGlite.create();
  await db.exec('CREATE TABLE t (id bigint PRIMARY KEY, body jsonb, note text)');
});

afterAll(async () => {
  await db.close();
});

describe('sqlLiteral', () => {
  it('quotes like PQescapeLiteral', () => {
    expect(sqlLiteral(null)).toBe('NULL');
    expect(sqlLiteral(undefined)).toBe('NULL');
    expect(sqlLiteral("it's")).toBe("'it''s'");
    expect(sqlLiteral('a\\b')).toBe("E'a\\\\b'");
    expect(sqlLiteral(42)).toBe("'42'");
    expect(sqlLiteral(true)).toBe("'true'");
  });
});

describe('PreparedStatements on PGlite', () => {
  const insert =
    'INSERT INTO t (id, body, note) VALUES ($1::bigint, $2::jsonb, $3::text) RETURNING id, body, note';

  it('round-trips awkward text exactly, and answers as the plain path does', async () => {
    const statements = new PreparedStatements();
    statements.register([insert]);
    const note = `quote ' backslash \\ \\' E'x' $1 -- ; DROP TABLE t; é 𝄞 \n\t`;
    const body = JSON.stringify({ s: note, n: 9007199254740993n.toString(), nested: { a: [1, 'two'] } });
    const prepared = await statements.run(db, insert, ['1', body, note], false);
    const plain = await db.query(insert, ['2', body, note]);
    const { id: _p, ...viaPrepared } = prepared?.rows[0] as Record<string, unknown>;
    const { id: _q, ...viaPlain } = plain.rows[0] as Record<string, unknown>;
    expect(viaPrepared).toEqual(viaPlain);
    expect((prepared?.rows[0] as { note: string }).note).toBe(note);
    expect((prepared?.rows[0] as { body: unknown }).body).toEqual(JSON.parse(body));
    expect((await db.query('SELECT count(*)::int AS n FROM t')).rows).toEqual([{ n: 2 }]);
  });

  it('leaves unregistered statements and non-scalar parameters to the plain path', async () => {
    const statements = new PreparedStatements();
    statements.register([insert]);
    expect(await statements.run(db, 'SELECT $1::int AS x', [1], false)).toBeUndefined();
    expect(await statements.run(db, insert, ['3', { a: 1 }, null], false)).toBeUndefined();
  });

  it('a statement PREPARE refuses inside a transaction leaves the transaction usable', async () => {
    const statements = new PreparedStatements();
    const bad = 'SELECT * FROM no_such_table WHERE id = $1::bigint';
    statements.register([bad]);
    await db.transaction(async (t) => {
      expect(await statements.run(t, bad, ['1'], true)).toBeUndefined();
      const r = await t.query<{ n: number }>('SELECT count(*)::int AS n FROM t');
      expect(r.rows[0]?.n).toBeGreaterThan(0);
    });
  });

  it('prepares a statement anew after REPLAN_FIRST uses, then every tenfold, in a transaction too', async () => {
    const statements = new PreparedStatements();
    const count = 'SELECT count(*)::int AS n FROM t WHERE id >= $1::bigint';
    statements.register([count]);
    const preparedAt = async (): Promise<string[]> =>
      (
        await db.query<{ at: string }>(
          `SELECT prepare_time::text AS at FROM pg_prepared_statements WHERE statement LIKE '%count(*)::int AS n FROM t WHERE id >=%'`,
        )
      ).rows.map((r) => r.at);
    const use = async (n: number, inTx: boolean): Promise<void> => {
      for (let i = 0; i < n; i++) {
        const run = (on: PGlite | Transaction) => statements.run(on, count, ['0'], inTx);
        const r = inTx ? await db.transaction((t) => run(t)) : await run(db);
        expect((r?.rows[0] as { n: number }).n).toBeGreaterThan(0);
      }
    };
    await use(REPLAN_FIRST - 1, false);
    const first = await preparedAt();
    expect(first).toHaveLength(1);
    await use(1, true); // the REPLAN_FIRST-th use, inside a transaction
    const second = await preparedAt();
    expect(second).toHaveLength(1);
    expect(second[0]! > first[0]!).toBe(true);
    await use(10 * REPLAN_FIRST - REPLAN_FIRST - 1, false);
    expect(await preparedAt()).toEqual(second);
    await use(1, false);
    expect((await preparedAt())[0]! > second[0]!).toBe(true);
  });

  it('errors of the statement itself come back with their SQLSTATE', async () => {
    const statements = new PreparedStatements();
    statements.register([insert]);
    await expect(statements.run(db, insert, ['1', '{}', null], false)).rejects.toMatchObject({
      code: '23505',
    });
  });
});
