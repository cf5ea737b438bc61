import type { PGlite, Results, Transaction } from '@electric-sql/pglite';
import type { Db, DbPoolStats, DbResult, DbRow, RootDb } from '../db.js';
import { isDriverError, toDbError } from '../errors.js';
import { PreparedStatements } from './prepared.js';

function toResult<R extends DbRow>(r: Results): DbResult<R> {
  return {
    rows: r.rows as R[],
    rowCount: r.rowCount ?? r.affectedRows ?? r.rows.length,
    fields: r.fields.map((f) => f.name),
  };
}

function wrap(error: unknown): unknown {
  return isDriverError(error) ? toDbError(error) : error;
}

type Queryable = Pick<Transaction, 'query' | 'exec'>;

/** Characters of text parameters past which a statement yields to pending I/O first. */
export const BIG_STATEMENT_CHARS = 256 * 1024;

/**
 * Resolves after the event loop has polled for I/O once. PGlite runs a statement on this thread,
 * blocking it until done: before a big one (an execute's 3.4 MB workload takes most of a second)
 * the requests that came meanwhile are let in, so health answers in between (from its recent
 * ping: the session is busy). Two turns of `setImmediate`: from an I/O callback the first runs
 * before the next poll, the second after it.
 */
function pollOnce(): Promise<void> {
  return new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
}

function textChars(params: readonly unknown[]): number {
  let n = 0;
  for (const p of params) if (typeof p === 'string') n += p.length;
  return n;
}

async function run<R extends DbRow>(
  on: Queryable,
  text: string,
  params: readonly unknown[],
  statements: PreparedStatements,
  inTx: boolean,
): Promise<DbResult<R>> {
  if (textChars(params) > BIG_STATEMENT_CHARS) await pollOnce();
  try {
    const prepared = params.length > 0 ? await statements.run(on, text, params, inTx) : undefined;
    return toResult<R>(prepared ?? (await on.query(text, [...params])));
  } catch (error) {
    throw wrap(error);
  }
}

async function runMany(on: Queryable, text: string): Promise<DbResult[]> {
  try {
    return (await on.exec(text)).map((r) => toResult(r));
  } catch (error) {
    throw wrap(error);
  }
}

/** Inside `PGlite.transaction`: nested `tx` calls join it. */
class PgliteTxDb implements Db {
  constructor(
    private readonly t: Transaction,
    private readonly statements: PreparedStatements,
  ) {}

  query<R extends DbRow = DbRow>(text: string, params: readonly unknown[] = []): Promise<DbResult<R>> {
    return run<R>(this.t, text, params, this.statements, true);
  }

  exec(text: string): Promise<DbResult[]> {
    return runMany(this.t, text);
  }

  tx<T>(fn: (db: Db) => Promise<T>): Promise<T> {
    return fn(this);
  }
}

/** Callers whose work joins one transaction at most (a group holds the session while it runs). */
export const MAX_GROUP = 32;

/** Turns of the event loop a batch waits for callers on their way (see `drain`). */
const GATHER_TURNS = 4;

/** One caller's work waiting for the session. */
interface Job {
  /** The work on its own: a transaction of its own, or an autocommit statement. */
  readonly alone: () => Promise<unknown>;
  /** The work inside a group's transaction; undefined: it never joins one (`exec`). */
  readonly member: ((db: Db) => Promise<unknown>) | undefined;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * PGlite is one PostgreSQL session: statements and transactions run one at a time, so a
 * transaction excludes every other caller until it ends.
 *
 * Group commit: callers queue here. A caller alone runs as before (a transaction of its own, or
 * an autocommit statement). Transactions and statements that queue together run together: in one
 * transaction, each inside a savepoint of its own (one that fails is rolled back alone and its
 * caller gets the error), committed once, so they share one WAL flush (fsync) instead of paying
 * one each. Nobody's result is handed back before that commit returned: an acknowledged write is
 * on disk, as with a commit of its own. `exec` (raw statements, migrations, user SQL without
 * parameters) never joins a group.
 */
export class PgliteRootDb implements RootDb {
  /** One session, one transaction or group at a time (the queue below). */
  readonly serialTransactions = true;
  private readonly statements = new PreparedStatements();
  private readonly queue: Job[] = [];
  /** The job or group holding the session; undefined when it is free. */
  private running: Promise<void> | undefined;
  /** Groups committed and the callers they carried (tests read them). */
  private readonly grouping = { groups: 0, members: 0 };

  constructor(
    private readonly pg: PGlite,
    private readonly onClose: () => void,
  ) {}

  query<R extends DbRow = DbRow>(text: string, params: readonly unknown[] = []): Promise<DbResult<R>> {
    return this.enqueue(
      () => run<R>(this.pg, text, params, this.statements, false),
      (db) => db.query<R>(text, params),
    );
  }

  /** The store's parameterised statements: prepared in the session on first use. */
  nameStatements(texts: Iterable<string>): void {
    this.statements.register(texts);
  }

  exec(text: string): Promise<DbResult[]> {
    return this.enqueue(() => runMany(this.pg, text), undefined);
  }

  tx<T>(fn: (db: Db) => Promise<T>): Promise<T> {
    return this.enqueue(() => this.transaction(fn), fn);
  }

  // No `txWithPrelude`: a round trip to PGlite is a function call, while the prelude's text
  // (literals, no parameters) is parsed and planned on every call. The execution lock and head
  // go as two prepared statements instead: about 0.2 ms less a chain step (docs/benchmarks.md).

  private async transaction<T>(fn: (db: Db) => Promise<T>): Promise<T> {
    try {
      return await this.pg.transaction((t) => fn(new PgliteTxDb(t, this.statements)));
    } catch (error) {
      throw wrap(error);
    }
  }

  private enqueue<T>(alone: () => Promise<T>, member: ((db: Db) => Promise<T>) | undefined): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ alone, member, resolve: resolve as (value: unknown) => void, reject });
      this.running ??= this.drain();
    });
  }

  /**
   * Runs what queued until the queue is empty: alone, or as a group when several wait. Before
   * each batch it lets the event loop turn a few times (`setImmediate`, GATHER_TURNS): a PGlite
   * statement runs on this thread and its awaits are promise jobs only, so while the queue is
   * worked no other request (an in-process worker's included: light-my-request delivers bodies
   * on `setImmediate`) moves on to reach it, and nothing would ever be grouped. A request on its
   * way needs a few turns; each turn runs only what was already queued, so a caller alone pays
   * microseconds.
   */
  private async drain(): Promise<void> {
    try {
      for (;;) {
        for (let turn = 0; turn < GATHER_TURNS && this.queue.length < MAX_GROUP; turn++) {
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
        const batch = this.nextBatch();
        if (batch.length === 0) return;
        if (batch.length === 1) await this.runAlone(batch[0]!);
        else await this.runGroup(batch);
      }
    } finally {
      this.running = undefined;
    }
  }

  /** The first job, with the groupable jobs queued behind it when it is groupable too. */
  private nextBatch(): Job[] {
    const first = this.queue.shift();
    if (!first) return [];
    const batch = [first];
    if (first.member === undefined) return batch;
    while (batch.length < MAX_GROUP && this.queue[0]?.member !== undefined) batch.push(this.queue.shift()!);
    return batch;
  }

  private async runAlone(job: Job): Promise<void> {
    try {
      job.resolve(await job.alone());
    } catch (error) {
      job.reject(error);
    }
  }

  private async runGroup(batch: readonly Job[]): Promise<void> {
    const outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = [];
    try {
      await this.pg.transaction(async (t) => {
        const db = new PgliteTxDb(t, this.statements);
        for (const [i, job] of batch.entries()) {
          // RELEASE of the previous member's savepoint travels with this one's SAVEPOINT.
          await t.exec(
            i === 0 ? 'SAVEPOINT noetl_group' : 'RELEASE SAVEPOINT noetl_group; SAVEPOINT noetl_group',
          );
          try {
            outcomes.push({ ok: true, value: await job.member!(db) });
          } catch (error) {
            await t.exec('ROLLBACK TO SAVEPOINT noetl_group');
            outcomes.push({ ok: false, error: wrap(error) });
          }
        }
        await t.exec('RELEASE SAVEPOINT noetl_group');
      });
    } catch (error) {
      // The commit (or the transaction itself) failed: nothing of the group is stored.
      for (const job of batch) job.reject(wrap(error));
      return;
    }
    this.grouping.groups++;
    this.grouping.members += batch.length;
    for (const [i, job] of batch.entries()) {
      const outcome = outcomes[i]!;
      if (outcome.ok) job.resolve(outcome.value);
      else job.reject(outcome.error);
    }
  }

  /** Groups committed so far and the callers they carried. */
  groupStats(): { readonly groups: number; readonly members: number } {
    return { ...this.grouping };
  }

  stats(): DbPoolStats {
    const waiting = this.queue.length;
    return { total: 1, idle: this.running === undefined ? 1 : 0, waiting };
  }

  async close(): Promise<void> {
    try {
      if (!this.pg.closed) await this.pg.close();
    } finally {
      this.onClose();
    }
  }
}
