import type { DuckDBType, DuckDBTypeId, DuckDBValue, DuckDBValueConverter } from '@duckdb/node-api';
import type { Json } from '@duckdb/node-api';
import { numericValue, safeInteger, timestampText } from '../sql-values.js';
import type { DuckdbModule } from './database.js';

/**
 * DuckDB values as step data, matching the postgres tool: 64-bit and wider integers a number when
 * safe, else exact text; DECIMAL a number up to 15 significant digits, else text; timestamps ISO
 * (`T` separator); dates `YYYY-MM-DD`; lists, structs and maps converted element-wise; the rest as
 * DuckDB's JSON converter gives it.
 */
export function valueConverter(duck: DuckdbModule): DuckDBValueConverter<Json> {
  const T = duck.DuckDBTypeId;
  const wide = new Set<DuckDBTypeId>([T.BIGINT, T.UBIGINT, T.HUGEINT, T.UHUGEINT, T.BIGNUM]);
  const stamps = new Set<DuckDBTypeId>([
    T.TIMESTAMP,
    T.TIMESTAMP_S,
    T.TIMESTAMP_MS,
    T.TIMESTAMP_NS,
    T.TIMESTAMP_TZ,
  ]);
  const json = duck.JsonDuckDBValueConverter;
  const convert: DuckDBValueConverter<Json> = (value: DuckDBValue, type: DuckDBType, self) => {
    if (value === null) return null;
    const id = type.typeId;
    if (wide.has(id)) return safeInteger(String(value));
    if (id === T.DECIMAL) return numericValue(String(value));
    if (stamps.has(id)) return timestampText(String(value));
    return json(value, type, self);
  };
  return convert;
}

/** A parameter as DuckDB binds it: maps and lists as JSON text, dates as ISO text. */
export function bindValue(value: unknown): DuckDBValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' || typeof value === 'boolean' || typeof value === 'bigint') return value;
  if (typeof value === 'number') return Number.isSafeInteger(value) ? BigInt(value) : value;
  if (value instanceof Date) return value.toISOString();
  return JSON.stringify(value);
}
