import { isPlainObject } from '../../shared/index.js';
import {
  configError,
  optBoolean,
  optNumber,
  optSeconds,
  optString,
  pick,
  reqString,
  typeName,
  type ConfigMap,
} from '../config-helpers.js';

/** Where to connect; one pool per distinct value (contract 2: per credential). */
export interface PgConnection {
  readonly connectionString?: string;
  readonly host?: string;
  readonly port?: number;
  readonly user?: string;
  readonly password?: string;
  readonly database?: string;
  readonly sslmode?: string;
  /** `SET search_path` on every connection of the pool. */
  readonly schema?: string;
  /** Server-side `statement_timeout`, in ms. */
  readonly statementTimeoutMs?: number;
}

export interface PostgresConfig {
  readonly sql: string;
  readonly params: readonly unknown[];
  readonly connection: PgConnection;
  /** Rows as `{column: value}` maps (default) or as arrays in `columns` order. */
  readonly asObjects: boolean;
}

const KIND = 'postgres';

/**
 * The connection part of a postgres config (also used by the transfer tool for its source and
 * target): `connection_string` (aliases `dsn`, `database_url`, a string `connection`) or
 * `host`/`port`/`user`/`password`/`database` (NoETL's `db_*` names accepted), `schema`, `sslmode`.
 */
export function readPgConnection(kind: string, config: ConfigMap): PgConnection {
  const nested = pick(config, 'connection');
  const fields: ConfigMap = isPlainObject(nested) ? { ...nested, ...config } : config;
  const connectionString =
    optString(kind, fields, 'connection_string', 'dsn', 'database_url') ??
    (typeof nested === 'string' && nested !== '' ? nested : undefined);
  const host = optString(kind, fields, 'host', 'db_host');
  const database = optString(kind, fields, 'database', 'db_name', 'dbname');
  if (connectionString === undefined && host === undefined && database === undefined) {
    throw configError(
      kind,
      "no connection: give 'auth: <credential alias>', 'connection_string', or 'host'/'database'/'user'/'password'",
    );
  }
  const port = optNumber(kind, fields, 'port', 'db_port');
  const user = optString(kind, fields, 'user', 'db_user', 'username');
  const password = optString(kind, fields, 'password', 'db_password');
  const sslmode = optString(kind, fields, 'sslmode', 'ssl_mode');
  const schema = optString(kind, fields, 'schema', 'db_schema', 'search_path');
  const timeout = optSeconds(kind, fields, 'timeout_seconds', 'timeout');
  return {
    ...(connectionString !== undefined ? { connectionString } : {}),
    ...(host !== undefined ? { host } : {}),
    ...(port !== undefined ? { port } : {}),
    ...(user !== undefined ? { user } : {}),
    ...(password !== undefined ? { password } : {}),
    ...(database !== undefined ? { database } : {}),
    ...(sslmode !== undefined ? { sslmode } : {}),
    ...(schema !== undefined && schema !== '' ? { schema } : {}),
    ...(timeout !== undefined ? { statementTimeoutMs: timeout } : {}),
  };
}

export function readParams(kind: string, config: ConfigMap): unknown[] {
  const params = pick(config, 'params', 'parameters', 'args');
  if (params === undefined) return [];
  if (!Array.isArray(params)) {
    throw configError(kind, `'params' must be a list (positional $1, $2, ...), got ${typeName(params)}`);
  }
  return params;
}

export function readPostgresConfig(config: ConfigMap): PostgresConfig {
  return {
    sql: reqString(KIND, config, 'query', 'command', 'sql', 'statement'),
    params: readParams(KIND, config),
    connection: readPgConnection(KIND, config),
    asObjects: optBoolean(KIND, config, 'as_objects') ?? true,
  };
}
