import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIG_STATEMENT_CHARS } from './pglite-db.js';
import { PgliteStore } from './pglite-store.js';

let store: PgliteStore;

beforeAll(async () => {
  store = await PgliteStore.open({ dataDir: 'memory://' });
}, 60_000);

afterAll(async () => {
  await store.close();
});

/** A transaction that holds the session until `release()`; `inside` resolves once it does. */
function holdSession(on: PgliteStore) {
  let release!: () => void;
  let entered!: () => void;
  const inside = new Promise<void>((resolve) => (entered = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  const done = on.tx(async () => {
    entered();
    await released;
  });
  return { inside, release, done };
}

function notWithin(ms: number): Promise<'no answer'> {
  return new Promise((resolve) => setTimeout(() => resolve('no answer'), ms).unref());
}

describe('PGlite health while a transaction holds the session', () => {
  it('answers from a recent good ping instead of queueing behind the transaction', async () => {
    // No ping has answered yet: health waits for the session.
    const first = holdSession(store);
    await first.inside;
    const order: string[] = [];
    const answered = store.health().then((r) => {
      order.push('health');
      return r;
    });
    // a little time for a wrong answer to come before the transaction ends
    await new Promise((resolve) => setTimeout(resolve, 200));
    order.push('released');
    first.release();
    await first.done;
    expect((await answered).ok).toBe(true);
    expect(order).toEqual(['released', 'health']);

    // That ping answered just now: while the next transaction holds the session, it stands
    // (before, every ping waited for the transaction: an execute's, a second or more).
    const second = holdSession(store);
    await second.inside;
    try {
      const answers = await Promise.all(
        [1, 2, 3].map(() => Promise.race([store.health(), notWithin(5_000)])),
      );
      for (const answer of answers) expect(answer).toMatchObject({ ok: true });
    } finally {
      second.release();
      await second.done;
    }
    // the ping sent meanwhile answered once the session was free; so do the next ones
    expect((await store.health()).ok).toBe(true);
  }, 30_000);
});

describe('a big statement on PGlite', () => {
  it('lets the I/O that came meanwhile in before it blocks the thread', async () => {
    // A request read off a socket starts the statement (as an execute does), while a second
    // request (a health probe, say) is already waiting in the socket's buffer.
    const order: string[] = [];
    let bothDone!: () => void;
    const both = new Promise<void>((resolve) => (bothDone = resolve));
    const note = (what: string) => {
      order.push(what);
      if (order.length === 2) bothDone();
    };
    const big = 'x'.repeat(BIG_STATEMENT_CHARS + 1);
    let statement: Promise<unknown> | undefined;
    let client: Socket | undefined;
    const server = createServer((socket) => {
      socket.on('data', (chunk) => {
        if (statement !== undefined) return note(`read ${String(chunk)}`);
        client?.write('probe'); // in the socket buffer before the statement starts
        statement = store.query('SELECT length($1::text) AS n', [big]).then((r) => {
          note('statement');
          return r;
        });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      client = connect(port, '127.0.0.1');
      await new Promise((resolve) => client?.once('connect', resolve));
      client.write('execute');
      await both;
      expect(await statement).toMatchObject({ rows: [{ n: big.length }] });
      // before: the statement ran first, the probe was read after it
      expect(order).toEqual(['read probe', 'statement']);
    } finally {
      client?.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
