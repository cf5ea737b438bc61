import { createHash } from 'node:crypto';
import type { Writable } from 'node:stream';
import type { Pool, PoolClient, QueryConfig, QueryResult } from 'pg';
import { NoetlError, type Logger } from '../../shared/index.js';
import type { Db, DbPoolStats, DbResult, DbRow, RootDb } from '../db.js';
import { isLostConnection, isDriverError, toDbError } from '../errors.js';

/** pg returns one result, or an array of them for several statements in one simple query. */
function toResults(raw: QueryResult | QueryResult[]): DbResult[] {
  return (Array.isArray(raw) ? raw : [raw]).map((r) => toResult(r));
}

function toResult<R extends DbRow>(r: QueryResult): DbResult<R> {
  return {
    rows: r.rows as R[],
    rowCount: r.rowCount ?? r.rows.length,
    fields: (r.fields ?? []).map((f) => f.name),
  };
}

/** Names of the store's own statements: prepared once per connection, not planned per call. */
type StatementNames = ReadonlyMap<string, string>;

function queryConfig(names: StatementNames, text: string, params: readonly unknown[]): QueryConfig {
  const name = names.get(text);
  return name === undefined ? { text, values: [...params] } : { name, text, values: [...params] };
}

/** The prelude of a pipelined transaction (`txPipelined`), not waited for, and its check. */
interface PipelinedPrelude {
  readonly text: string;
  readonly check: (results: readonly DbResult[] | undefined, error?: unknown) => void;
}

/** A connection checked out for one transaction; nested `tx` calls join it. */
class PgClientDb implements Db {
  /** The prelude's check, once sent: each answer waits for it, and its failure is thrown instead. */
  private gate: Promise<void> | undefined;
  /** COMMIT sent by `queryCommitting`: the transaction ends with its answer. */
  committing: Promise<QueryResult> | undefined;

  /**
   * @param prelude BEGIN and this go out with the first statement (or at `ready`), in one
   *   write, and are not waited for (the pool's connections are pipelined); undefined: BEGIN
   *   was sent already.
   */
  constructor(
    private readonly client: PoolClient,
    private readonly names: StatementNames,
    private readonly prelude?: PipelinedPrelude,
  ) {}

  query<R extends DbRow = DbRow>(text: string, params: readonly unknown[] = []): Promise<DbResult<R>> {
    const pending = this.send(() => this.client.query(queryConfig(this.names, text, params)));
    return this.answer(pending).then((r) => toResult<R>(r));
  }

  exec(text: string): Promise<DbResult[]> {
    const pending = this.send(() => this.client.query(text) as Promise<QueryResult | QueryResult[]>);
    return this.answer(pending).then((r) => toResults(r));
  }

  queryCommitting<R extends DbRow = DbRow>(
    text: string,
    params: readonly unknown[],
    guards: readonly (readonly [string, readonly unknown[]])[],
  ): Promise<DbResult<R>> {
    if (this.committing !== undefined) throw new Error('the transaction was already committed');
    let committing!: Promise<QueryResult>;
    const first = this.send(() => {
      const q = this.client.query(queryConfig(this.names, text, params));
      for (const [g, p] of guards) this.client.query(queryConfig(this.names, g, p)).catch(() => undefined);
      // A statement that failed turns the transaction's COMMIT into ROLLBACK: the caller learns
      // it from COMMIT's answer.
      committing = this.client.query('COMMIT');
      return q;
    });
    committing.catch(() => undefined);
    this.committing = committing;
    return this.answer(first).then((r) => toResult<R>(r));
  }

  /** Sends the prelude if it is still due; resolves when it passed its check. */
  ready(): Promise<void> {
    if (this.prelude !== undefined && this.gate === undefined) void this.send(() => Promise.resolve());
    return this.gate ?? Promise.resolve();
  }

  /**
   * Runs `submit` (queries made on the pipelined client go out as they are made) with the
   * prelude before it when still due, corked into one write: `pg` corks each query's own
   * messages, but a statement and the COMMIT sent after it (`queryCommitting`) were two writes,
   * each a system call of 50-100 us on our machines.
   */
  private send<T>(submit: () => Promise<T>): Promise<T> {
    const prelude = this.prelude;
    const stream = (this.client as { connection?: { stream?: Partial<Writable> } }).connection?.stream;
    stream?.cork?.();
    try {
      if (prelude !== undefined && this.gate === undefined) {
        this.gate = (
          this.client.query(`BEGIN; ${prelude.text}`) as Promise<QueryResult | QueryResult[]>
        ).then(
          (raw) => prelude.check(toResults(raw).slice(1)),
          (error: unknown) => {
            prelude.check(undefined, error);
            throw toDbError(error);
          },
        );
        this.gate.catch(() => undefined); // thrown by the answers that wait for it
      }
      return submit();
    } finally {
      stream?.uncork?.();
    }
  }

  private async answer<T>(pending: Promise<T>): Promise<T> {
    if (this.gate !== undefined) {
      // Sent already (pipelined); its answer counts only once the prelude passed.
      pending.catch(() => undefined);
      await this.gate;
    }
    try {
      return await pending;
    } catch (error) {
      throw toDbError(error);
    }
  }

  tx<T>(fn: (db: Db) => Promise<T>): Promise<T> {
    return fn(this);
  }
}

/** The pool as a `RootDb`. */
export class PgPoolDb implements RootDb {
  private readonly names = new Map<string, string>();
  /**
   * Retries after a lost connection. When the server restarts or terminates backends, every
   * idle pooled connection is dead and the pool may hand several out before it notices, so
   * allow one retry per pooled connection (a dead socket fails at once).
   */
  private readonly connectionRetries: number;

  constructor(
    private readonly pool: Pool,
    private readonly logger: Logger,
    poolSize: number,
  ) {
    this.connectionRetries = poolSize + 1;
    // An idle client whose backend is terminated emits 'error' on the pool; without a listener
    // that would crash the process. The pool drops the client by itself.
    pool.on('error', (error) => this.logger.warn({ err: error.message }, 'postgres idle client error'));
  }

  nameStatements(texts: Iterable<string>): void {
    for (const text of texts) {
      this.names.set(text, `noetl_${createHash('sha1').update(text).digest('hex').slice(0, 16)}`);
    }
  }

  async query<R extends DbRow = DbRow>(text: string, params: readonly unknown[] = []): Promise<DbResult<R>> {
    for (let attempt = 0; ; attempt++) {
      try {
        return toResult<R>(await this.pool.query(queryConfig(this.names, text, params)));
      } catch (error) {
        if (attempt < this.connectionRetries && isLostConnection(error)) continue;
        throw toDbError(error);
      }
    }
  }

  async exec(text: string): Promise<DbResult[]> {
    try {
      return toResults((await this.pool.query(text)) as QueryResult | QueryResult[]);
    } catch (error) {
      throw toDbError(error);
    }
  }

  tx<T>(fn: (db: Db) => Promise<T>): Promise<T> {
    return this.txWithPrelude('', (db) => fn(db));
  }

  /** BEGIN and the prelude go as one simple query: one round trip. */
  txWithPrelude<T>(prelude: string, fn: (db: Db, results: readonly DbResult[]) => Promise<T>): Promise<T> {
    return this.txRetried(prelude, fn);
  }

  /**
   * BEGIN and the prelude go as one simple query, and `fn`'s statements follow on the same
   * connection without waiting for its answer (the pool's connections are in pipeline mode):
   * the round trip of the prelude overlaps the first statement's.
   */
  txPipelined<T>(
    prelude: string,
    check: (results: readonly DbResult[] | undefined, error?: unknown) => void,
    fn: (db: Db) => Promise<T>,
  ): Promise<T> {
    return this.txRetried(prelude, (db) => fn(db), check);
  }

  private async txRetried<T>(
    prelude: string,
    fn: (db: Db, results: readonly DbResult[]) => Promise<T>,
    check?: (results: readonly DbResult[] | undefined, error?: unknown) => void,
  ): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const outcome = await this.txOnce(prelude, fn, check);
      if (outcome.ok) return outcome.value;
      // Retry only when the connection died before COMMIT was sent: nothing was committed.
      if (attempt < this.connectionRetries && !outcome.commitSent && isLostConnection(outcome.error))
        continue;
      throw isDriverError(outcome.error) ? toDbError(outcome.error) : outcome.error;
    }
  }

  private async txOnce<T>(
    prelude: string,
    fn: (db: Db, results: readonly DbResult[]) => Promise<T>,
    check?: (results: readonly DbResult[] | undefined, error?: unknown) => void,
  ): Promise<{ ok: true; value: T } | { ok: false; error: unknown; commitSent: boolean }> {
    let client: PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      return { ok: false, error, commitSent: false };
    }
    // A checked-out client has no pool 'error' listener: a backend terminated between two
    // statements of this transaction would emit 'error' on it unheard and crash the process.
    // Listen for the transaction's lifetime; the next statement then fails as a lost connection.
    const onError = (error: Error): void => {
      this.logger.warn({ err: error.message }, 'postgres connection lost inside a transaction');
    };
    client.on('error', onError);
    let commitSent = false;
    let db: PgClientDb | undefined;
    try {
      let value: T;
      if (check !== undefined) {
        db = new PgClientDb(client, this.names, { text: prelude, check });
        // Sent now, not with the first statement: the database takes the lock and checks the
        // head while `fn` works out what to write (measured: a lazy prelude lost the gain).
        void db.ready().catch(() => undefined);
        value = await fn(db, []);
        await db.ready();
      } else {
        let begun: DbResult[] = [];
        if (prelude === '') await client.query('BEGIN');
        else
          begun = toResults((await client.query(`BEGIN; ${prelude}`)) as QueryResult | QueryResult[]).slice(
            1,
          );
        db = new PgClientDb(client, this.names);
        value = await fn(db, begun);
      }
      commitSent = true;
      if (db.committing !== undefined) {
        const ended = await db.committing;
        // Every statement answered, yet one failed (a guard): nothing was committed.
        if (ended.command !== 'COMMIT')
          throw new NoetlError('INTERNAL', `the transaction ended in ${ended.command}, not COMMIT`);
      } else await client.query('COMMIT');
      client.off('error', onError);
      client.release();
      return { ok: true, value };
    } catch (error) {
      let broken = isLostConnection(error);
      if (db?.committing !== undefined && !commitSent) {
        // `fn` failed after COMMIT went with its last statement. Once COMMIT is answered the
        // connection is idle again: ROLLBACK (a statement failed) means nothing was committed,
        // COMMIT that it was after all. Unanswered, the outcome is unknown.
        let ended: string | undefined;
        try {
          ended = (await db.committing).command;
        } catch {
          broken = true;
        }
        client.off('error', onError);
        client.release(broken ? true : undefined);
        return { ok: false, error, commitSent: ended !== 'ROLLBACK' };
      }
      if (!commitSent && !broken) {
        try {
          await client.query('ROLLBACK');
        } catch {
          broken = true;
        }
      }
      // A broken connection is destroyed instead of going back to the pool.
      client.off('error', onError);
      client.release(broken || commitSent ? true : undefined);
      return { ok: false, error, commitSent };
    }
  }

  stats(): DbPoolStats {
    return { total: this.pool.totalCount, idle: this.pool.idleCount, waiting: this.pool.waitingCount };
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
