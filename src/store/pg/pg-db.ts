import { createHash } from 'node:crypto';
import type { Pool, PoolClient, QueryConfig, QueryResult } from 'pg';
import type { Logger } from '../../shared/index.js';
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

/** A connection checked out for one transaction; nested `tx` calls join it. */
class PgClientDb implements Db {
  constructor(
    private readonly client: PoolClient,
    private readonly names: StatementNames,
  ) {}

  async query<R extends DbRow = DbRow>(text: string, params: readonly unknown[] = []): Promise<DbResult<R>> {
    try {
      return toResult<R>(await this.client.query(queryConfig(this.names, text, params)));
    } catch (error) {
      throw toDbError(error);
    }
  }

  async exec(text: string): Promise<DbResult[]> {
    try {
      return toResults((await this.client.query(text)) as QueryResult | QueryResult[]);
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
  async txWithPrelude<T>(
    prelude: string,
    fn: (db: Db, results: readonly DbResult[]) => Promise<T>,
  ): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const outcome = await this.txOnce(prelude, fn);
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
    try {
      let begun: DbResult[] = [];
      if (prelude === '') await client.query('BEGIN');
      else
        begun = toResults((await client.query(`BEGIN; ${prelude}`)) as QueryResult | QueryResult[]).slice(1);
      const value = await fn(new PgClientDb(client, this.names), begun);
      commitSent = true;
      await client.query('COMMIT');
      client.off('error', onError);
      client.release();
      return { ok: true, value };
    } catch (error) {
      let broken = isLostConnection(error);
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
