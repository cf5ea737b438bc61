import { isPlainObject } from '../../shared/index.js';
import {
  configError,
  optMap,
  optNumber,
  optString,
  pick,
  reqString,
  typeName,
  type ConfigMap,
} from '../config-helpers.js';

export const KIND = 'transfer';

export type TransferMode = 'append' | 'replace' | 'upsert';
export type SourceType = 'http' | 'postgres' | 'duckdb';
export type TargetType = 'postgres' | 'duckdb';

/** A target column's value: a source field (dotted path) or a constant. */
export type ColumnSource = { readonly path: string } | { readonly value: unknown };

export interface Pagination {
  readonly type: 'page' | 'offset' | 'cursor';
  /** Query parameter carrying the page number, offset or cursor. */
  readonly param: string;
  /** First page (default 1) or offset (default 0). */
  readonly start: number;
  /** Query parameter carrying the page size (optional) and its value (default chunk_size). */
  readonly sizeParam?: string;
  readonly size?: number;
  /** Dotted path of the next cursor in the response body (cursor pagination). */
  readonly cursorPath?: string;
  /** Dotted path of a "more pages" flag in the response body. */
  readonly hasMorePath?: string;
  readonly maxPages: number;
}

export interface HttpSource {
  readonly type: 'http';
  /** The request keys as the http tool reads them (url, method, headers, params, json, auth...). */
  readonly request: ConfigMap;
  readonly dataPath?: string;
  readonly pagination?: Pagination;
}

export interface SqlSource {
  readonly type: 'postgres' | 'duckdb';
  readonly query: string;
  readonly params: readonly unknown[];
  /** Connection keys (postgres: auth, connection_string, host...; duckdb: db_path/connection). */
  readonly connection: ConfigMap;
}

export type TransferSource = HttpSource | SqlSource;

export interface TransferTarget {
  readonly type: TargetType;
  readonly table: string;
  /** Target column -> source; absent: the source rows' own fields. */
  readonly mapping?: ReadonlyMap<string, ColumnSource>;
  /** Conflict key columns (upsert). */
  readonly key: readonly string[];
  readonly connection: ConfigMap;
}

export interface TransferConfig {
  readonly source: TransferSource;
  readonly target: TransferTarget;
  readonly chunkSize: number;
  readonly mode: TransferMode;
}

const MODES: Readonly<Record<string, TransferMode>> = {
  append: 'append',
  insert: 'append',
  replace: 'replace',
  overwrite: 'replace',
  truncate: 'replace',
  upsert: 'upsert',
  merge: 'upsert',
};

function typeOf(where: string, map: ConfigMap, allowed: readonly string[]): string {
  const type = (optString(KIND, map, 'type', 'tool', 'kind') ?? '').toLowerCase();
  const normal = type === 'postgresql' ? 'postgres' : type;
  if (!allowed.includes(normal)) {
    throw configError(KIND, `'${where}.type' must be one of ${allowed.join(', ')}, got '${type}'`);
  }
  return normal;
}

function readPagination(map: ConfigMap, chunkSize: number): Pagination | undefined {
  const p = optMap(KIND, map, 'pagination');
  if (!p) return undefined;
  const type = (optString(KIND, p, 'type') ?? 'page').toLowerCase();
  if (type !== 'page' && type !== 'offset' && type !== 'cursor') {
    throw configError(KIND, `'source.pagination.type' must be page, offset or cursor, got '${type}'`);
  }
  const sizeParam = optString(KIND, p, 'size_param', 'limit_param', 'page_size_param');
  const size = optNumber(KIND, p, 'size', 'limit', 'page_size');
  const cursorPath = optString(KIND, p, 'cursor_path', 'next_cursor_path');
  const hasMorePath = optString(KIND, p, 'has_more_path', 'more_path');
  if (type === 'cursor' && cursorPath === undefined) {
    throw configError(KIND, "cursor pagination needs 'source.pagination.cursor_path'");
  }
  return {
    type,
    param: optString(KIND, p, 'param') ?? type,
    start: optNumber(KIND, p, 'start') ?? (type === 'page' ? 1 : 0),
    ...(sizeParam !== undefined
      ? { sizeParam, size: size ?? chunkSize }
      : size !== undefined
        ? { size }
        : {}),
    ...(cursorPath !== undefined ? { cursorPath } : {}),
    ...(hasMorePath !== undefined ? { hasMorePath } : {}),
    maxPages: optNumber(KIND, p, 'max_pages') ?? 100_000,
  };
}

function readSource(map: ConfigMap, chunkSize: number): TransferSource {
  const type = typeOf('source', map, ['http', 'postgres', 'duckdb']);
  if (type === 'http') {
    const dataPath = optString(KIND, map, 'data_path', 'path');
    const pagination = readPagination(map, chunkSize);
    const {
      type: _t,
      tool: _o,
      kind: _k,
      data_path: _d,
      path: _p,
      pagination: _g,
      query: _q,
      ...request
    } = map;
    return {
      type,
      request,
      ...(dataPath !== undefined && dataPath !== '' ? { dataPath } : {}),
      ...(pagination ? { pagination } : {}),
    };
  }
  const params = pick(map, 'params');
  if (params !== undefined && !Array.isArray(params)) {
    throw configError(KIND, `'source.params' must be a list, got ${typeName(params)}`);
  }
  const { type: _t, tool: _o, kind: _k, query: _q, command: _c, params: _p, ...connection } = map;
  return {
    type: type as 'postgres' | 'duckdb',
    query: reqString(KIND, map, 'query', 'command', 'sql'),
    params: params ?? [],
    connection,
  };
}

function readMapping(value: unknown): Map<string, ColumnSource> | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isPlainObject(value))
    throw configError(KIND, `'target.mapping' must be a map, got ${typeName(value)}`);
  const out = new Map<string, ColumnSource>();
  for (const [column, src] of Object.entries(value)) {
    if (typeof src === 'string') out.set(column, { path: src });
    else if (isPlainObject(src) && typeof src.path === 'string') out.set(column, { path: src.path });
    else if (isPlainObject(src) && 'value' in src) out.set(column, { value: src.value });
    else out.set(column, { value: src });
  }
  if (out.size === 0) throw configError(KIND, "'target.mapping' is empty");
  return out;
}

function readKey(...values: unknown[]): string[] {
  const value = values.find((v) => v !== undefined && v !== null);
  if (value === undefined) return [];
  if (typeof value === 'string')
    return value
      .split(',')
      .map((k) => k.trim())
      .filter((k) => k !== '');
  if (Array.isArray(value) && value.every((k) => typeof k === 'string')) return value;
  throw configError(KIND, `'key' must be a column name or a list of them, got ${typeName(value)}`);
}

export function readTransferConfig(config: ConfigMap): TransferConfig {
  const chunkSize = optNumber(KIND, config, 'chunk_size', 'batch_size') ?? 1000;
  if (!Number.isInteger(chunkSize) || chunkSize < 1) {
    throw configError(KIND, `'chunk_size' must be a positive integer, got ${chunkSize}`);
  }
  const sourceMap = optMap(KIND, config, 'source');
  const targetMap = optMap(KIND, config, 'target');
  if (!sourceMap || !targetMap) throw configError(KIND, "'source' and 'target' maps are required");
  const modeName = (
    optString(KIND, config, 'mode') ??
    optString(KIND, targetMap, 'mode') ??
    'append'
  ).toLowerCase();
  const mode = MODES[modeName];
  if (!mode) throw configError(KIND, `'mode' must be append, replace or upsert, got '${modeName}'`);
  const type = typeOf('target', targetMap, ['postgres', 'duckdb']) as TargetType;
  const mapping = readMapping(targetMap.mapping ?? config.mapping);
  const key = readKey(targetMap.key, config.key, targetMap.primary_key, config.upsert_key);
  if (mode === 'upsert' && key.length === 0) {
    throw configError(KIND, "mode 'upsert' needs 'key' (the conflict column or columns)");
  }
  const {
    type: _t,
    tool: _o,
    kind: _k,
    table: _b,
    mapping: _m,
    key: _y,
    primary_key: _p,
    mode: _d,
    ...connection
  } = targetMap;
  return {
    source: readSource(sourceMap, chunkSize),
    target: {
      type,
      table: reqString(KIND, targetMap, 'table'),
      ...(mapping ? { mapping } : {}),
      key,
      connection,
    },
    chunkSize,
    mode,
  };
}
