/**
 * The store: persistence of the control plane (event log, command queue, catalog, credentials,
 * variables, runtime registry, keychain cache, execution projection). The only door of the part.
 */
export type * from './ports.js';
export { COMMAND_STATUSES, EXECUTION_STATUSES, RUNTIME_KINDS, VAR_TYPES } from './records.js';
export { SCHEDULE_CATCHUP, SCHEDULE_OVERLAP } from './schedule-records.js';
export { openStore, type StoreConfig } from './open-store.js';
export { SqlStore, REQUIRED_TABLES, type SqlStoreOptions } from './sql-store.js';
export { PgStore, pgPoolConfig, type PgStoreOptions, type PgConnectionOptions } from './pg/pg-store.js';
export { PgliteStore, type PgliteStoreOptions } from './pglite/pglite-store.js';
export { makePrivate } from './pglite/private-files.js';
export { isRetryableDbError, toDbError } from './errors.js';
export { defaultMigrationsDir, loadMigrations, type Migration } from './migrate.js';
export type { Db, DbResult, DbRow, RootDb } from './db.js';
