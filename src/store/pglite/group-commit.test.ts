import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgliteRootDb } from './pglite-db.js';

let pg: PGlite;
let db: PgliteRootDb;

beforeAll(async () => {
  pg = await PGlite.create();
  db = new PgliteRootDb(pg, () => undefined);
  await db.exec('CREATE TABLE t (id integer PRIMARY KEY, note text)');
});

afterAll(async () => {
  await db.close();
});

const ids = async (): Promise<number[]> =>
  (await db.query<{ id: number }>('SELECT id FROM t ORDER BY id')).rows.map((r) => r.id);

/** A transaction that holds the session until `release()`: what comes meanwhile queues. */
function holdSession() {
  let release!: () => void;
  let entered!: () => void;
  const inside = new Promise<void>((resolve) => (entered = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  const done = db.tx(async () => {
    entered();
    await released;
  });
  return { inside, release, done };
}

describe('group commit on PGlite', () => {
  it('commits what queued together in one transaction, acknowledging nobody before the commit', async () => {
    await db.exec('TRUNCATE t');
    const hold = holdSession();
    await hold.inside;
    const before = db.groupStats();
    const timeline: string[] = [];
    const calls = Array.from({ length: 6 }, (_, i) =>
      db
        .tx(async (tx) => {
          await tx.query('INSERT INTO t (id, note) VALUES ($1::integer, $2::text)', [i, `tx ${i}`]);
          timeline.push(`ran ${i}`);
          return i;
        })
        .then((value) => {
          timeline.push(`acked ${i}`);
          return value;
        }),
    );
    // a single statement joins the group too
    const single = db.query('INSERT INTO t (id, note) VALUES ($1::integer, $2::text)', [6, 'statement']);
    hold.release();
    await hold.done;
    expect(await Promise.all(calls)).toEqual([0, 1, 2, 3, 4, 5]);
    await single;
    expect(await ids()).toEqual([0, 1, 2, 3, 4, 5, 6]);
    const after = db.groupStats();
    expect(after.groups - before.groups).toBe(1);
    expect(after.members - before.members).toBe(7);
    // every body ran before the first caller heard back: they were acknowledged after one commit
    const firstAck = timeline.findIndex((t) => t.startsWith('acked'));
    expect(timeline.slice(0, firstAck)).toEqual([0, 1, 2, 3, 4, 5].map((i) => `ran ${i}`));
  });

  it('rolls back a failing member alone: its caller gets the error, the others commit', async () => {
    await db.exec('TRUNCATE t');
    await db.query('INSERT INTO t (id, note) VALUES ($1::integer, $2::text)', [100, 'there before']);
    const hold = holdSession();
    await hold.inside;
    const insert = (id: number) => (tx: Parameters<Parameters<PgliteRootDb['tx']>[0]>[0]) =>
      tx.query('INSERT INTO t (id, note) VALUES ($1::integer, $2::text)', [id, 'x']);
    const ok1 = db.tx(insert(1));
    // a JavaScript error after a write: the write is undone
    const thrown = db.tx(async (tx) => {
      await insert(2)(tx);
      throw new Error('changed my mind');
    });
    // an SQL error (duplicate key): the group's transaction stays usable
    const duplicate = db.tx(insert(100));
    const ok2 = db.tx(insert(3));
    hold.release();
    await hold.done;
    await expect(thrown).rejects.toThrow('changed my mind');
    await expect(duplicate).rejects.toMatchObject({ code: 'CONFLICT' });
    await ok1;
    await ok2;
    expect(await ids()).toEqual([1, 3, 100]);
  });

  it('never puts exec (raw SQL) in a group: it runs alone, in order', async () => {
    await db.exec('TRUNCATE t');
    const hold = holdSession();
    await hold.inside;
    const before = db.groupStats();
    const order: string[] = [];
    const a = db.tx(async (tx) => {
      await tx.query('INSERT INTO t (id, note) VALUES ($1::integer, $2::text)', [1, 'a']);
      order.push('a');
    });
    const raw = db.exec("INSERT INTO t (id, note) VALUES (2, 'raw')").then(() => order.push('raw'));
    const b = db.tx(async (tx) => {
      await tx.query('INSERT INTO t (id, note) VALUES ($1::integer, $2::text)', [3, 'b']);
      order.push('b');
    });
    hold.release();
    await Promise.all([hold.done, a, raw, b]);
    expect(order).toEqual(['a', 'raw', 'b']);
    expect(db.groupStats().groups - before.groups).toBe(0);
    expect(await ids()).toEqual([1, 2, 3]);
  });

  it('runs a caller that finds the session free at once, in a transaction of its own', async () => {
    const before = db.groupStats();
    await db.tx((tx) => tx.query('SELECT 1'));
    expect(db.groupStats()).toEqual(before);
  });
});
