import type { ServerConfig } from '../config/index.js';
import type { IdGenerator, Logger } from '../shared/index.js';
import type { StoreConfig } from '../store/index.js';

/** The store configuration of a server configuration (PostgreSQL or PGlite under NOETL_HOME). */
export function storeConfigOf(
  config: Pick<ServerConfig, 'database' | 'schema'>,
  extra: { readonly ids?: IdGenerator; readonly logger?: Logger; readonly migrate?: boolean } = {},
): StoreConfig {
  const db = config.database;
  const common = {
    schema: config.schema,
    ...(extra.ids === undefined ? {} : { ids: extra.ids }),
    ...(extra.logger === undefined ? {} : { logger: extra.logger }),
    ...(extra.migrate === undefined ? {} : { migrate: extra.migrate }),
  };
  if (db.kind === 'pglite') return { ...common, dataDir: db.dataDir };
  return {
    ...common,
    ...(db.url === undefined ? {} : { databaseUrl: db.url }),
    postgres: {
      host: db.host,
      port: db.port,
      user: db.user,
      database: db.database,
      ...(db.password === undefined ? {} : { password: db.password }),
    },
    poolSize: db.poolSize,
  };
}
