import { NoetlError, SnowflakeIdGenerator, errorMessage, systemClock } from '../shared/index.js';
import type { IdGenerator, JsonValue } from '../shared/index.js';
import type { Db, DbResult, DbRow, RootDb } from './db.js';
import { isDriverError, sqlStateOf, toDbError } from './errors.js';
import { KeyedMutex } from './keyed-mutex.js';
import { loadMigrations, pendingMigrations, runMigrations, type Migration } from './migrate.js';
import type {
  CatalogStore,
  CommandStore,
  CredentialStore,
  EventStore,
  ExecutionHead,
  ExecutionStore,
  HealthResult,
  KeychainStore,
  MigrateResult,
  RawQueryResult,
  ResultStore,
  RuntimeStore,
  Store,
  StoreStats,
  StoreTx,
  ValidateResult,
  VarStore,
} from './ports.js';
import { executionLockPrelude } from './queries/admin.js';
import { assertSchemaName } from './queries/bind.js';
import { SqlCatalogStore } from './repos/catalog.js';
import { SqlCommandStore } from './repos/commands.js';
import { bindSql, type BoundSql, type RepoContext } from './repos/context.js';
import { SqlCredentialStore } from './repos/credentials.js';
import { SqlEventStore } from './repos/events.js';
import { SqlExecutionStore } from './repos/executions.js';
import { SqlKeychainStore } from './repos/keychain.js';
import { SqlRuntimeStore } from './repos/runtime.js';
import { SqlScheduleStore } from './repos/schedules.js';
import type { ScheduleStore } from './schedule-records.js';
import { SqlResultStore } from './repos/results.js';
import { SqlVarStore } from './repos/vars.js';
import { num, text, textOrNull } from './rows.js';

/** A pipelined execution transaction found a head other than the caller expected. */
class StaleHead extends Error {
  constructor() {
    super('the execution log moved on since the cached state was read');
  }
}

/** Tables `validate()` requires (contract 4.1 /api/db/validate, plus ours). */
export const REQUIRED_TABLES = [
  'catalog',
  'command',
  'credential',
  'event',
  'execution',
  'keychain',
  'migrations',
  'outbox',
  'resource',
  'result_store',
  'runtime',
  'schedule',
  'schedule_fire',
  'transient',
] as const;

export interface SqlStoreOptions {
  /** Default `noetl`. */
  readonly schema?: string;
  /** Source of catalog, credential, runtime and claim-event ids. */
  readonly ids?: IdGenerator;
  /** Default: `migrations/` of this package. */
  readonly migrationsDir?: string;
}

/** The repositories over one connection or transaction. */
class SqlStoreTx implements StoreTx {
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

  constructor(protected readonly ctx: RepoContext) {
    this.events = new SqlEventStore(ctx);
    this.commands = new SqlCommandStore(ctx);
    this.catalog = new SqlCatalogStore(ctx);
    this.credentials = new SqlCredentialStore(ctx);
    this.vars = new SqlVarStore(ctx);
    this.runtime = new SqlRuntimeStore(ctx);
    this.keychain = new SqlKeychainStore(ctx);
    this.executions = new SqlExecutionStore(ctx);
    this.schedules = new SqlScheduleStore(ctx);
    this.results = new SqlResultStore(ctx);
  }

  async query(sql: string, params: readonly JsonValue[] = []): Promise<RawQueryResult> {
    try {
      const result: DbResult | undefined =
        params.length > 0 ? await this.ctx.db.query(sql, params) : (await this.ctx.db.exec(sql)).at(-1);
      if (!result) return { rows: [], rowCount: 0, fields: [] };
      return { rows: result.rows, rowCount: result.rowCount, fields: result.fields };
    } catch (error) {
      throw userSqlError(error);
    }
  }
}

function toHead(row: DbRow | undefined): ExecutionHead | undefined {
  return row
    ? { eventCount: num(row, 'event_count'), lastEventId: textOrNull(row, 'last_event_id') }
    : undefined;
}

/** A user's SQL failing on bad syntax, data or constraints is bad input, not a server fault. */
function userSqlError(error: unknown): NoetlError {
  const original = error instanceof NoetlError && isDriverError(error.cause) ? error.cause : error;
  return toDbError(original, { userSql: true });
}

/**
 * The store, written once over a driver's `Db`. Adapters (PgStore, PgliteStore) only make the
 * `RootDb`; every query, the claim, the projections and migrations live here and in repos/.
 */
export class SqlStore extends SqlStoreTx implements Store {
  readonly schema: string;
  private readonly root: RootDb;
  private readonly sql: BoundSql;
  private readonly mutex = new KeyedMutex();
  private readonly migrationsDir: string | undefined;
  private migrations: Promise<Migration[]> | undefined;
  private closed = false;

  constructor(
    root: RootDb,
    private readonly kind: StoreStats['kind'],
    options: SqlStoreOptions = {},
  ) {
    const schema = assertSchemaName(options.schema ?? 'noetl');
    const sql = bindSql(schema);
    super({
      db: root,
      sql,
      ids: options.ids ?? new SnowflakeIdGenerator(systemClock),
      lockPrefix: `${schema}:`,
    });
    this.schema = schema;
    this.root = root;
    this.sql = sql;
    this.migrationsDir = options.migrationsDir;
    const parameterised = Object.values(sql)
      .flatMap((module: Record<string, string>) => Object.values(module))
      .filter((text) => text.includes('$1'));
    root.nameStatements?.(parameterised);
  }

  private view(db: Db): StoreTx {
    return new SqlStoreTx({ ...this.ctx, db });
  }

  tx<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    return this.root.tx((db) => fn(this.view(db)));
  }

  withLock<T>(name: string | readonly string[], fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    if (typeof name !== 'string') {
      // No process-local mutex for a set of names: the database lock alone orders them.
      const keys = name.map((n) => `${this.ctx.lockPrefix}${n}`);
      return this.root.tx(async (db) => {
        if (keys.length > 0) await db.query(this.sql.admin.lockMany, [keys]);
        return fn(this.view(db));
      });
    }
    const key = `${this.ctx.lockPrefix}${name}`;
    return this.mutex.run(key, () =>
      this.root.tx(async (db) => {
        await db.query(this.sql.admin.lock, [key]);
        return fn(this.view(db));
      }),
    );
  }

  withExecutionLock<T>(
    executionId: string,
    fn: (tx: StoreTx, head: ExecutionHead | undefined) => Promise<T>,
    expectedCount?: () => number | undefined,
  ): Promise<T> {
    const key = `${this.ctx.lockPrefix}execution:${executionId}`;
    const prelude = executionLockPrelude(this.schema, executionId, key);
    const txWithPrelude = this.root.txWithPrelude?.bind(this.root);
    const txPipelined = this.root.txPipelined?.bind(this.root);
    return this.mutex.run(key, async () => {
      // (no pipelining, as on PGlite: the count is not asked for and no checked prelude built)
      const expected = txPipelined ? expectedCount?.() : undefined;
      const checked =
        expected !== undefined ? executionLockPrelude(this.schema, executionId, key, expected) : undefined;
      if (txPipelined && checked !== undefined && expected !== undefined) {
        // The caller's cache says how many events the log holds: `fn` runs on that premise at
        // once, its statements sent behind BEGIN, the lock and a check of the head without
        // waiting for them. Should the head say otherwise, the check fails in the database
        // (division_by_zero), which aborts the transaction: nothing `fn` sent is committed and
        // nothing it read is answered (StaleHead), and `fn` runs again below on the head as read.
        try {
          return await txPipelined(
            checked,
            (results, error) => {
              if (error !== undefined ? sqlStateOf(error) === '22012' : results?.length !== 2)
                throw new StaleHead();
            },
            (db) => fn(this.view(db), { eventCount: expected, lastEventId: null }),
          );
        } catch (error) {
          if (!(error instanceof StaleHead)) throw error;
        }
      }
      return txWithPrelude && prelude !== undefined
        ? // BEGIN, the lock and the head in one round trip.
          txWithPrelude(prelude, (db, results) => fn(this.view(db), toHead(results.at(-1)?.rows[0])))
        : this.root.tx(async (db) => {
            // The mutex above orders this process's callers; on a database whose transactions
            // never overlap nobody else could hold the lock.
            if (this.root.serialTransactions !== true) await db.query(this.sql.admin.lock, [key]);
            const head = await db.query(this.sql.admin.executionHead, [executionId]);
            return fn(this.view(db), toHead(head.rows[0]));
          });
    });
  }

  private loadMigrations(): Promise<Migration[]> {
    this.migrations ??= loadMigrations(this.migrationsDir);
    return this.migrations;
  }

  async migrate(): Promise<MigrateResult> {
    const migrations = await this.loadMigrations();
    // Read-only check first: a started database takes no lock and writes nothing.
    if ((await pendingMigrations(this.root, this.sql, migrations)).length === 0) return { applied: [] };
    return { applied: await runMigrations(this.root, this.sql, this.schema, migrations) };
  }

  async validate(): Promise<ValidateResult> {
    const result = await this.root.query(this.sql.admin.tables, [this.schema]);
    const tables = result.rows.map((row) => text(row, 'table_name'));
    const present = new Set(tables);
    const missing = REQUIRED_TABLES.filter((t) => !present.has(t));
    const pending = await pendingMigrations(this.root, this.sql, await this.loadMigrations());
    return {
      valid: missing.length === 0 && pending.length === 0,
      tables,
      missing,
      pendingMigrations: pending,
    };
  }

  async health(): Promise<HealthResult> {
    const started = performance.now();
    try {
      await this.root.query(this.sql.admin.ping);
      return { ok: true, latencyMs: performance.now() - started };
    } catch (error) {
      return { ok: false, latencyMs: performance.now() - started, error: errorMessage(error) };
    }
  }

  stats(): StoreStats {
    return { kind: this.kind, schema: this.schema, ...this.root.stats() };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.root.close();
  }
}
