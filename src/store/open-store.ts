import { ConfigError } from '../shared/index.js';
import type { IdGenerator, Logger } from '../shared/index.js';
import type { Store } from './ports.js';
import type { PgConnectionOptions } from './pg/pg-store.js';

/** What the config loader hands over (it alone reads the environment). */
export interface StoreConfig {
  /** `NOETL_DATABASE_URL`: PostgreSQL when set. */
  readonly databaseUrl?: string;
  /** `POSTGRES_HOST/PORT/USER/PASSWORD/DATABASE`: PostgreSQL when any is set. */
  readonly postgres?: PgConnectionOptions;
  /** PGlite data directory when no PostgreSQL is configured (`$NOETL_HOME/data`). */
  readonly dataDir?: string;
  /** Default `noetl`. */
  readonly schema?: string;
  /** Apply pending migrations on open (default true). */
  readonly migrate?: boolean;
  /** PostgreSQL pool size (default 10). */
  readonly poolSize?: number;
  /** PGlite only: fsync each commit (default true). */
  readonly durable?: boolean;
  /** PGlite only: `shared_buffers` (default 16MB). */
  readonly sharedBuffers?: string;
  readonly ids?: IdGenerator;
  readonly logger?: Logger;
  readonly migrationsDir?: string;
}

function wantsPostgres(config: StoreConfig): boolean {
  if (config.databaseUrl !== undefined && config.databaseUrl !== '') return true;
  return Object.values(config.postgres ?? {}).some((v) => v !== undefined && v !== '');
}

/**
 * Opens the store the configuration asks for: PostgreSQL when a URL or POSTGRES_* parts are
 * given, else PGlite under `dataDir`; then applies pending migrations. Each adapter is loaded
 * only when chosen.
 */
export async function openStore(config: StoreConfig): Promise<Store> {
  const common = {
    ...(config.schema !== undefined ? { schema: config.schema } : {}),
    ...(config.ids !== undefined ? { ids: config.ids } : {}),
    ...(config.migrationsDir !== undefined ? { migrationsDir: config.migrationsDir } : {}),
  };
  let store: Store;
  if (wantsPostgres(config)) {
    const { PgStore } = await import('./pg/pg-store.js');
    store = await PgStore.open({
      ...config.postgres,
      ...(config.databaseUrl ? { connectionString: config.databaseUrl } : {}),
      ...(config.poolSize !== undefined ? { max: config.poolSize } : {}),
      ...(config.logger !== undefined ? { logger: config.logger } : {}),
      ...common,
    });
  } else {
    if (config.dataDir === undefined || config.dataDir === '') {
      throw new ConfigError(
        'no database configured: give NOETL_DATABASE_URL, POSTGRES_* or a data directory',
      );
    }
    const { PgliteStore } = await import('./pglite/pglite-store.js');
    store = await PgliteStore.open({
      dataDir: config.dataDir,
      ...(config.durable !== undefined ? { durable: config.durable } : {}),
      ...(config.sharedBuffers !== undefined ? { sharedBuffers: config.sharedBuffers } : {}),
      ...common,
    });
  }
  if (config.migrate ?? true) {
    try {
      await store.migrate();
    } catch (error) {
      await store.close();
      throw error;
    }
  }
  return store;
}
