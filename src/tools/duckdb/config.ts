import { isAbsolute, resolve } from 'node:path';
import { isPlainObject } from '../../shared/index.js';
import {
  configError,
  optBoolean,
  optString,
  pick,
  reqString,
  typeName,
  type ConfigMap,
} from '../config-helpers.js';

export const MEMORY = ':memory:';
/** Default database file, relative to the working directory (contract 1.17). */
export const DEFAULT_DB_PATH = '.noetl/state.duckdb';

export interface DuckdbConfig {
  readonly sql: string;
  /** Positional (`$1`, `?`) or named (`$name`) parameters. */
  readonly params: readonly unknown[] | Readonly<Record<string, unknown>>;
  /** Absolute file path, or `:memory:`. */
  readonly dbPath: string;
  readonly asObjects: boolean;
}

const KIND = 'duckdb';

/**
 * `db_path` (aliases `db`, `database`, `connection`), default `.noetl/state.duckdb`, resolved
 * against the working directory.
 */
export function readDbPath(kind: string, config: ConfigMap): string {
  const raw = optString(kind, config, 'db_path', 'db', 'database', 'connection', 'path') ?? DEFAULT_DB_PATH;
  if (raw === MEMORY || raw === '') return MEMORY;
  return isAbsolute(raw) ? raw : resolve(process.cwd(), raw);
}

export function readDuckdbConfig(config: ConfigMap): DuckdbConfig {
  const params = pick(config, 'params', 'parameters', 'args');
  if (params !== undefined && !Array.isArray(params) && !isPlainObject(params)) {
    throw configError(KIND, `'params' must be a list or a map, got ${typeName(params)}`);
  }
  return {
    sql: reqString(KIND, config, 'query', 'command', 'sql', 'statement'),
    params: params ?? [],
    dbPath: readDbPath(KIND, config),
    asObjects: optBoolean(KIND, config, 'as_objects') ?? true,
  };
}
