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

/**
 * PGlite is one PostgreSQL session: statements and transactions run one at a time (PGlite queues
 * them), so a transaction excludes every other caller until it ends.
 */
export class PgliteRootDb implements RootDb {
  private waiting = 0;
  private readonly statements = new PreparedStatements();

  constructor(
    private readonly pg: PGlite,
    private readonly onClose: () => void,
  ) {}

  async query<R extends DbRow = DbRow>(text: string, params: readonly unknown[] = []): Promise<DbResult<R>> {
    return this.counted(() => run<R>(this.pg, text, params, this.statements, false));
  }

  /** The store's parameterised statements: prepared in the session on first use. */
  nameStatements(texts: Iterable<string>): void {
    this.statements.register(texts);
  }

  exec(text: string): Promise<DbResult[]> {
    return this.counted(() => runMany(this.pg, text));
  }

  async tx<T>(fn: (db: Db) => Promise<T>): Promise<T> {
    return this.counted(async () => {
      try {
        return await this.pg.transaction((t) => fn(new PgliteTxDb(t, this.statements)));
      } catch (error) {
        throw wrap(error);
      }
    });
  }

  private async counted<T>(fn: () => Promise<T>): Promise<T> {
    this.waiting++;
    try {
      return await fn();
    } finally {
      this.waiting--;
    }
  }

  stats(): DbPoolStats {
    return { total: 1, idle: this.waiting === 0 ? 1 : 0, waiting: Math.max(0, this.waiting - 1) };
  }

  async close(): Promise<void> {
    try {
      if (!this.pg.closed) await this.pg.close();
    } finally {
      this.onClose();
    }
  }
}
