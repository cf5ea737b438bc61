import type { JsonValue } from '../shared/index.js';
import type {
  CatalogInput,
  CatalogRecord,
  CommandInput,
  CommandRecord,
  CredentialInput,
  CredentialRecord,
  CredentialSummary,
  EventInput,
  EventRecord,
  ExecutionInit,
  ExecutionOverview,
  ExecutionRecord,
  ExecutionStatus,
  KeychainInput,
  KeychainRecord,
  RuntimeInput,
  RuntimeKind,
  RuntimeRecord,
  VarInput,
  VarRecord,
} from './records.js';

export type * from './records.js';
export type * from './schedule-records.js';
import type { ScheduleStore } from './schedule-records.js';

/** What one `append` writes, all in one transaction. */
/** An idempotency key to look up, with how far back an execution started by it counts. */
export interface IdempotencyLookup {
  readonly key: string;
  readonly withinMs: number;
}

export interface AppendBatch {
  /** Creates the execution projection row first (execute); ignored if it exists. */
  readonly execution?: ExecutionInit;
  /** More execution rows created the same way (a batch execute starts several at once). */
  readonly executions?: readonly ExecutionInit[];
  readonly events: readonly EventInput[];
  /** Command rows of `command.issued` events in `events`; a known command_id is skipped. */
  readonly commands?: readonly CommandInput[];
  /**
   * Commands of `commands` to write already claimed, each for its worker, with its
   * `command.claimed` event (as `CommandStore.claim` writes it, after the batch's events): the
   * take of a command decided in this very transaction, which nobody else can see yet, so the
   * claim gate has nothing to refuse. A chain step then costs one statement less and one
   * command row update less (docs/benchmarks.md).
   */
  readonly claims?: readonly CommandClaim[];
  /**
   * The transaction's last statement, whose events must all be new (`events` of one execution):
   * a store that can may send COMMIT with it, with a check that makes the transaction roll back
   * when any event was stored already. Such an event then reports `inserted: false` with its own
   * id (the one it repeats is not looked up), and the caller must fail the transaction.
   */
  readonly last?: boolean;
  /**
   * The caller fails the transaction unless every event is new (it decided on that premise).
   * A store may then write the batch with a leaner statement that writes nothing at all when
   * an event or command was stored already: every event then reports `inserted: false`, and the
   * transaction may be unusable. A batch with `execution(s)` takes the general statement.
   */
  readonly fresh?: boolean;
}

/** A command of the batch claimed as it is written. */
export interface CommandClaim {
  readonly commandId: string;
  readonly workerId: string;
  /** Id of its `command.claimed` event: from the generator of the batch's ids, after them. */
  readonly eventId: string;
}

export interface AppendedEvent {
  /** The id now stored: the input's, or the first event's when `idempotencyKey` matched one. */
  readonly eventId: string;
  /** False when the event was already there (same id, same idempotency key, or a second
   * completion of one command): nothing was changed. */
  readonly inserted: boolean;
}

export interface AppendResult {
  /** The batch's `events`, in order (the claims' events are not among them). */
  readonly events: readonly AppendedEvent[];
  readonly commandsInserted: number;
  /** The batch's `claims`, in order: each command as written, with its claim event. */
  readonly claimed?: readonly ClaimResult[];
}

export interface EventListOptions {
  /** Only events with a larger event_id (paging). */
  readonly afterEventId?: string;
  readonly limit?: number;
  readonly types?: readonly string[];
}

/** One event of the log as the `event_feed` index knows it (event streams look for new ones). */
export interface EventRef {
  readonly executionId: string;
  readonly eventId: string;
  readonly eventType: string;
}

export interface EventStore {
  /**
   * Appends events idempotently with their command rows, updating the execution and command
   * projections. A repeated event changes nothing and reports `inserted: false`.
   */
  append(batch: AppendBatch): Promise<AppendResult>;
  /** Events of an execution ordered by event_id. */
  list(executionId: string, options?: EventListOptions): Promise<EventRecord[]>;
  get(executionId: string, eventId: string): Promise<EventRecord | undefined>;
  countByType(executionId: string): Promise<Record<string, number>>;
  /** Events of every execution with an id above `afterEventId`, in id order, at most `limit`. */
  feed(afterEventId: string, limit: number): Promise<EventRef[]>;
  /** Whole events by (execution, event) id, in id order; unknown ones are left out. */
  getMany(refs: readonly Pick<EventRef, 'executionId' | 'eventId'>[]): Promise<EventRecord[]>;
}

export interface ClaimResult {
  readonly command: CommandRecord;
  /** Id of the `command.claimed` event (of the earlier claim when `alreadyClaimed`). */
  readonly claimEventId: string | null;
  /** The same worker had claimed it before: nothing was written. */
  readonly alreadyClaimed: boolean;
  /**
   * The execution's `event_count` right after this claim's event was counted (null when nothing
   * was written): a cache of the execution knows whether the claim event is all it missed.
   */
  readonly executionEventCount: number | null;
}

export interface SweepOptions {
  /** Only rows whose reference time is at least this old. */
  readonly olderThanMs: number;
  readonly limit?: number;
}

export interface CommandStore {
  get(commandId: string): Promise<CommandRecord | undefined>;
  getByKey(commandKey: string): Promise<CommandRecord | undefined>;
  listByExecution(executionId: string): Promise<CommandRecord[]>;
  /**
   * The exactly-once gate (contract 3.6). Throws NotFoundError for an unknown command and
   * ConflictError when it is finished, its execution is cancelled, or another worker holds it.
   */
  claim(commandId: string, workerId: string): Promise<ClaimResult>;
  /** CLAIMED/RUNNING commands held by these workers (restart of in-process workers). */
  listClaimedBy(workerIds: readonly string[]): Promise<CommandRecord[]>;
  /** CLAIMED/RUNNING commands with no event for `olderThanMs` (reaper). */
  listStale(options: SweepOptions): Promise<CommandRecord[]>;
  /** PENDING commands committed at least `olderThanMs` ago whose notification was never
   * published (outbox sweep). */
  listUnpublished(options: SweepOptions): Promise<CommandRecord[]>;
  /** PENDING commands published at least `olderThanMs` ago and still not claimed. */
  listUnclaimed(options: SweepOptions): Promise<CommandRecord[]>;
  markPublished(commandIds: readonly string[]): Promise<number>;
  /**
   * Puts a CLAIMED/RUNNING command back to PENDING (attempt + 1, unpublished) so it is
   * published and claimed again. With `workerId`, only if that worker still holds it.
   */
  release(commandId: string, workerId?: string): Promise<boolean>;
  /**
   * Releases (as `release`) commands CLAIMED at least `olderThanMs` ago and never started (no
   * `command.started`): the claimant never got the claim's answer (connection lost, server
   * killed after COMMIT) and handed the notification back, so no one runs them. One atomic
   * statement, so a command started meanwhile is left alone. Returns the released rows.
   */
  releaseUnstarted(options: SweepOptions): Promise<CommandRecord[]>;
}

export interface CatalogListOptions {
  /** Compared case-insensitively. */
  readonly kind?: string;
  readonly path?: string;
  readonly includeArchived?: boolean;
  readonly limit?: number;
}

export interface CatalogDeleteResult {
  readonly catalogId: string;
  readonly version: number;
  /** True when kept as archived because executions refer to it. */
  readonly archived: boolean;
}

export interface CatalogStore {
  /** New version = max + 1 for the path. */
  register(input: CatalogInput): Promise<CatalogRecord>;
  list(options?: CatalogListOptions): Promise<CatalogRecord[]>;
  get(catalogId: string): Promise<CatalogRecord | undefined>;
  /** `latest` (the default) is the newest non-archived version. */
  getByPath(path: string, version?: number | 'latest'): Promise<CatalogRecord | undefined>;
  /** Deletes one version or all; versions with executions are archived instead. */
  delete(path: string, version?: number): Promise<CatalogDeleteResult[]>;
  restore(path: string, version?: number): Promise<CatalogRecord[]>;
}

export interface CredentialListOptions {
  readonly type?: string;
  /** Substring of name or description, case-insensitive. */
  readonly q?: string;
}

export interface CredentialStore {
  /** Insert or replace by name (the id is kept on replace). */
  upsert(input: CredentialInput): Promise<CredentialSummary>;
  list(options?: CredentialListOptions): Promise<CredentialSummary[]>;
  /** By id (decimal string) or by name. */
  get(idOrName: string): Promise<CredentialRecord | undefined>;
  delete(idOrName: string): Promise<boolean>;
  /** By id, locked until the transaction ends (use inside `tx`). */
  getForUpdate(id: string): Promise<CredentialRecord | undefined>;
  /** Replaces the fields of the credential with this id, name included (CONFLICT when the name
   * is taken); undefined when there is none. */
  update(id: string, input: CredentialInput): Promise<CredentialSummary | undefined>;
}

/** A payload to keep in the result store (contract 1.12 PUT /api/result). */
export interface ResultInput {
  readonly executionId: string;
  readonly name: string;
  /** The JSON text of the value, stored as it is. */
  readonly data: string;
  readonly scope?: string;
  readonly sourceStep?: string;
  readonly mediaType?: string;
}

export interface ResultRecord {
  readonly resultId: string;
  readonly executionId: string;
  readonly name: string;
  readonly scope: string;
  readonly bytes: number;
  readonly sha256: string;
  readonly mediaType: string;
  readonly createdAt: string;
}

/** Payloads stored by reference (`noetl://execution/<eid>/result/<name>/<id>`). */
export interface ResultStore {
  put(input: ResultInput): Promise<ResultRecord>;
  /** The stored JSON text; undefined when there is none. */
  get(executionId: string, name: string, resultId: string): Promise<string | undefined>;
}

export interface VarStore {
  /** Upsert by (execution, name); throws BAD_REQUEST for an unknown var type. */
  set(executionId: string, vars: readonly VarInput[]): Promise<number>;
  list(executionId: string): Promise<VarRecord[]>;
  /** Counts the access (access_count, accessed_at). */
  get(executionId: string, name: string): Promise<VarRecord | undefined>;
  delete(executionId: string, name: string): Promise<boolean>;
  clear(executionId: string): Promise<number>;
}

export interface RuntimeListOptions {
  readonly kind?: RuntimeKind;
  readonly status?: string;
  readonly name?: string;
}

export interface RuntimeStore {
  /** Upsert by (kind, name), heartbeat now. */
  register(input: RuntimeInput): Promise<RuntimeRecord>;
  /** False when no such runtime is registered. Revives an `offline` one. */
  heartbeat(name: string, kind?: RuntimeKind): Promise<boolean>;
  deregister(name: string, kind?: RuntimeKind): Promise<boolean>;
  list(options?: RuntimeListOptions): Promise<RuntimeRecord[]>;
  /** Marks runtimes without a heartbeat for `olderThanMs` offline; returns their names. */
  markOffline(olderThanMs: number): Promise<string[]>;
}

export interface KeychainStore {
  put(input: KeychainInput): Promise<KeychainRecord>;
  /** Counts the access; expired entries are returned with `expired: true`. */
  get(cacheKey: string): Promise<KeychainRecord | undefined>;
  delete(cacheKey: string): Promise<boolean>;
  listByCatalog(catalogId: string): Promise<KeychainRecord[]>;
  purgeExpired(): Promise<number>;
}

export interface ExecutionListOptions {
  readonly catalogId?: string;
  readonly path?: string;
  readonly status?: ExecutionStatus;
  readonly parentExecutionId?: string;
  readonly limit?: number;
  readonly offset?: number;
}

/** Keyset position in the executions list (newest first): the last row of a page. */
export interface ExecutionPageKey {
  /** start_time in microseconds since the epoch (decimal string: exact). */
  readonly startMicros: string;
  readonly executionId: string;
}

export interface ExecutionPageOptions {
  readonly catalogId?: string;
  readonly status?: ExecutionStatus;
  /** Path prefix (a full path matches itself). */
  readonly pathPrefix?: string;
  /** Substring of the path, case-insensitive. */
  readonly pathContains?: string;
  /** Started at or after (ms since the epoch). */
  readonly since?: number;
  /** Started before (ms since the epoch). */
  readonly until?: number;
  /** Rows after this one (the previous page's `next`). */
  readonly after?: ExecutionPageKey;
  readonly limit: number;
  /** Rows skipped first (legacy paging; prefer `after`). */
  readonly offset?: number;
}

export interface ExecutionPage {
  readonly executions: ExecutionRecord[];
  /** Key of the last row when more rows may follow. */
  readonly next?: ExecutionPageKey;
}

export interface ExecutionStore {
  get(executionId: string): Promise<ExecutionRecord | undefined>;
  /** `get` without the workload, which may be large: for status and event reads. */
  overview(executionId: string): Promise<ExecutionOverview | undefined>;
  /** Newest first. */
  list(options?: ExecutionListOptions): Promise<ExecutionRecord[]>;
  /** Newest first, by keyset (start_time, execution_id): as fast on page 1000 as on page 1. */
  page(options: ExecutionPageOptions): Promise<ExecutionPage>;
  /** The newest execution started with this key within the window (execute dedup). */
  findByIdempotencyKey(key: string, withinMs: number): Promise<ExecutionRecord | undefined>;
  /** `findByIdempotencyKey` for several keys in one query: key to the newest execution's id. */
  findByIdempotencyKeys(keys: readonly IdempotencyLookup[]): Promise<Map<string, string>>;
  /** RUNNING executions started at least `olderThanMs` ago (`/api/executions/cleanup`). */
  listRunningOlderThan(olderThanMs: number): Promise<ExecutionRecord[]>;
}

/** Where an execution's log stands (its projection row), read under the execution's lock. */
export interface ExecutionHead {
  /** Events in the log; every appended or claim event counts once. */
  readonly eventCount: number;
  readonly lastEventId: string | null;
}

export interface RawQueryResult {
  readonly rows: Record<string, unknown>[];
  readonly rowCount: number;
  readonly fields: readonly string[];
}

/** Everything that works inside one transaction. */
export interface StoreTx {
  readonly events: EventStore;
  readonly commands: CommandStore;
  readonly catalog: CatalogStore;
  readonly credentials: CredentialStore;
  readonly vars: VarStore;
  readonly runtime: RuntimeStore;
  readonly keychain: KeychainStore;
  readonly executions: ExecutionStore;
  readonly schedules: ScheduleStore;
  readonly results: ResultStore;
  /**
   * SQL a user sent (`/api/postgres/execute`), against the store's database. Without params
   * it may hold several statements; the last statement's rows are returned.
   */
  query(sql: string, params?: readonly JsonValue[]): Promise<RawQueryResult>;
}

export interface ValidateResult {
  readonly valid: boolean;
  readonly tables: readonly string[];
  readonly missing: readonly string[];
  readonly pendingMigrations: readonly string[];
}

export interface HealthResult {
  readonly ok: boolean;
  readonly latencyMs: number;
  readonly error?: string;
}

export interface StoreStats {
  readonly kind: 'pg' | 'pglite';
  readonly schema: string;
  readonly total: number;
  readonly idle: number;
  readonly waiting: number;
}

export interface MigrateResult {
  readonly applied: readonly string[];
}

export interface Store extends StoreTx {
  /**
   * Runs `fn` in one transaction. Inside, use only the `tx` handle: on PGlite a transaction
   * holds the only connection, so calling the root store from `fn` would wait forever.
   * `fn` may run more than once: when the connection is lost before COMMIT, the PostgreSQL
   * adapter rolls back and calls it again on a fresh one. Whatever `fn` changes outside the
   * database (caches) must be reset or rebuilt on each call.
   */
  tx<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T>;
  /**
   * `tx` holding a lock named `name`, across processes sharing the database. Several names are
   * taken together in one statement, in an order every caller shares (no deadlock).
   */
  withLock<T>(name: string | readonly string[], fn: (tx: StoreTx) => Promise<T>): Promise<T>;
  /**
   * Serialises decisions for one execution across server replicas. `fn` also gets the
   * execution's head as the lock was taken (undefined for an unknown execution): a caller that
   * knows how many events it has seen can tell whether anyone wrote since.
   */
  withExecutionLock<T>(
    executionId: string,
    fn: (tx: StoreTx, head: ExecutionHead | undefined) => Promise<T>,
    /**
     * The events the caller believes the log holds (undefined: it does not know). A store may
     * then run `fn` at once with that head, without waiting for the lock's answer, and check
     * the head before anything `fn` read is answered and before COMMIT; if the head differs,
     * the transaction rolls back and `fn` runs again with the head as read.
     */
    expectedCount?: () => number | undefined,
  ): Promise<T>;
  /** Applies pending migrations (idempotent; safe when several replicas start at once). */
  migrate(): Promise<MigrateResult>;
  validate(): Promise<ValidateResult>;
  health(): Promise<HealthResult>;
  stats(): StoreStats;
  close(): Promise<void>;
}
