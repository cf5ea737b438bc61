/**
 * The one seam between the store logic and a driver. Each adapter (pg, PGlite) supplies a `Db`;
 * everything above it (repositories, claim, migrations) is written once over this interface.
 */

/** A row as drivers return it: column name to parsed value (bigint columns are strings). */
export type DbRow = Record<string, unknown>;

export interface DbResult<R extends DbRow = DbRow> {
  readonly rows: R[];
  /** Rows returned, or rows changed by INSERT/UPDATE/DELETE. */
  readonly rowCount: number;
  readonly fields: readonly string[];
}

export interface Db {
  /** One parameterised statement. */
  query<R extends DbRow = DbRow>(text: string, params?: readonly unknown[]): Promise<DbResult<R>>;
  /** Several statements without parameters (migrations, raw SQL); one result per statement. */
  exec(text: string): Promise<DbResult[]>;
  /**
   * Runs `fn` in a transaction: commit when it resolves, roll back when it throws. Called on a
   * handle that is already inside a transaction, `fn` joins that transaction.
   */
  tx<T>(fn: (db: Db) => Promise<T>): Promise<T>;
  /**
   * Optional power, on a handle inside a transaction: `text` runs, then each of `guards` (a
   * guard fails by raising an error), then COMMIT, all sent at once without waiting for an
   * answer. Resolves with `text`'s result. The transaction commits only if every statement
   * succeeded; nothing may be sent on this handle afterwards, and the transaction's end waits
   * for COMMIT's answer (and fails if it rolled back).
   */
  queryCommitting?<R extends DbRow = DbRow>(
    text: string,
    params: readonly unknown[],
    guards: readonly (readonly [string, readonly unknown[]])[],
  ): Promise<DbResult<R>>;
}

export interface DbPoolStats {
  readonly total: number;
  readonly idle: number;
  readonly waiting: number;
}

/** A driver's root handle: a `Db` that can be closed. */
export interface RootDb extends Db {
  close(): Promise<void>;
  stats(): DbPoolStats;
  /**
   * Optional power: these statement texts recur, so a driver may prepare each once per
   * connection instead of parsing and planning it on every call (pg: named statements).
   */
  nameStatements?(texts: Iterable<string>): void;
  /**
   * Declared by a driver whose transactions never overlap (PGlite: one session, and a queue in
   * front of it): a database lock then excludes nobody, so a caller whose process mutex already
   * orders its callers may skip taking it.
   */
  readonly serialTransactions?: boolean;
  /**
   * Optional power: `tx` whose BEGIN is sent together with `prelude` (statements without
   * parameters) in one round trip; `fn` gets the prelude's results, one per statement.
   */
  txWithPrelude?<T>(prelude: string, fn: (db: Db, results: readonly DbResult[]) => Promise<T>): Promise<T>;
  /**
   * Optional power: `txWithPrelude` that does not wait for the prelude's answer. `fn` runs at
   * once and its statements follow BEGIN and the prelude on the wire (pipelined), so they run
   * after the prelude in the database. `check` gets the prelude's results (or its error) before
   * `fn` sees the answer of any statement, and before COMMIT; when it throws, or the prelude
   * failed, the transaction rolls back and that error is thrown. Nothing `fn` learns from the
   * database is therefore acted on unless the prelude passed `check`.
   */
  txPipelined?<T>(
    prelude: string,
    check: (results: readonly DbResult[] | undefined, error?: unknown) => void,
    fn: (db: Db) => Promise<T>,
  ): Promise<T>;
}
