/**
 * The store: persistence of the control plane (event log, command queue, catalog, credentials,
 * variables, runtime registry, keychain cache, execution projection). The only door of the part.
 */
export type * from './ports.js';
export { RUNTIME_KINDS, VAR_TYPES } from './records.js';
export { SCHEDULE_CATCHUP, SCHEDULE_OVERLAP } from './schedule-records.js';
export { openStore, type StoreConfig } from './open-store.js';
export { SqlStore, REQUIRED_TABLES } from './sql-store.js';
export { PgStore } from './pg/pg-store.js';
export { PgliteStore } from './pglite/pglite-store.js';
export { makePrivate } from './pglite/private-files.js';
export { isRetryableDbError } from './errors.js';
export { loadMigrations } from './migrate.js';
export type { Db, DbResult, DbRow, RootDb } from './db.js';
