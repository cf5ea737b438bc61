import type { PoolConfig } from 'pg';
import { silentLogger } from '../../shared/index.js';
import type { Logger } from '../../shared/index.js';
import { SqlStore, type SqlStoreOptions } from '../sql-store.js';
import { PgPoolDb } from './pg-db.js';

/** Where PostgreSQL is: a URL, or the parts NoETL reads from POSTGRES_* variables. */
export interface PgConnectionOptions {
  readonly connectionString?: string;
  readonly host?: string;
  readonly port?: number;
  readonly user?: string;
  readonly password?: string;
  readonly database?: string;
  readonly ssl?: boolean;
}

export interface PgStoreOptions extends PgConnectionOptions, SqlStoreOptions {
  /** Pool size (default 10). */
  readonly max?: number;
  readonly connectionTimeoutMs?: number;
  readonly idleTimeoutMs?: number;
  readonly applicationName?: string;
  readonly logger?: Logger;
}

export function pgPoolConfig(options: PgStoreOptions): PoolConfig {
  const config: PoolConfig = {
    max: options.max ?? 10,
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 10_000,
    idleTimeoutMillis: options.idleTimeoutMs ?? 30_000,
    application_name: options.applicationName ?? 'noetl',
  };
  if (options.connectionString !== undefined) config.connectionString = options.connectionString;
  if (options.host !== undefined) config.host = options.host;
  if (options.port !== undefined) config.port = options.port;
  if (options.user !== undefined) config.user = options.user;
  if (options.password !== undefined) config.password = options.password;
  if (options.database !== undefined) config.database = options.database;
  if (options.ssl !== undefined) config.ssl = options.ssl;
  return config;
}

/** The store on PostgreSQL through a `pg.Pool` (bigint columns arrive as strings by default). */
export class PgStore extends SqlStore {
  /** Creates the pool (connections are made on first use). `pg` is loaded here, lazily. */
  static async open(options: PgStoreOptions): Promise<PgStore> {
    const { Pool } = await import('pg');
    const config = pgPoolConfig(options);
    // Pipeline mode: a statement is sent without waiting for the one before it to be answered
    // (`txPipelined`). Callers that await each statement see no difference.
    const pool = new Pool({ ...config, pipeline: true });
    return new PgStore(new PgPoolDb(pool, options.logger ?? silentLogger, config.max ?? 10), 'pg', options);
  }
}
