import { NoetlError } from '../shared/index.js';
import type { JsonObject, JsonValue } from '../shared/index.js';
import type { DbRow } from './db.js';

/**
 * Typed reads of driver rows. Drivers hand back `unknown`s: bigint columns as decimal strings
 * (pg by default, PGlite through our parser), timestamps as Date, json as parsed values.
 */

function bad(key: string, expected: string, value: unknown): NoetlError {
  return new NoetlError('DB_ERROR', `column ${key}: expected ${expected}, got ${typeof value}`);
}

export function textOrNull(row: DbRow, key: string): string | null {
  const v = row[key];
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  throw bad(key, 'text', v);
}

export function text(row: DbRow, key: string): string {
  const v = textOrNull(row, key);
  if (v === null) throw bad(key, 'text', null);
  return v;
}

export function numOrNull(row: DbRow, key: string): number | null {
  const v = row[key];
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return v;
  if (typeof v === 'string' || typeof v === 'bigint') return Number(v);
  throw bad(key, 'number', v);
}

export function num(row: DbRow, key: string): number {
  const v = numOrNull(row, key);
  if (v === null) throw bad(key, 'number', null);
  return v;
}

export function bool(row: DbRow, key: string): boolean {
  const v = row[key];
  if (typeof v === 'boolean') return v;
  if (v === null || v === undefined) return false;
  throw bad(key, 'boolean', v);
}

export function timeOrNull(row: DbRow, key: string): string | null {
  const v = row[key];
  if (v === null || v === undefined) return null;
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'string') return new Date(v).toISOString();
  throw bad(key, 'timestamp', v);
}

export function time(row: DbRow, key: string): string {
  const v = timeOrNull(row, key);
  if (v === null) throw bad(key, 'timestamp', null);
  return v;
}

/** jsonb columns arrive parsed; they hold only what was written as JSON. */
export function jsonOrNull(row: DbRow, key: string): JsonValue | null {
  const v = row[key];
  return v === undefined ? null : (v as JsonValue);
}

export function objectOrNull(row: DbRow, key: string): JsonObject | null {
  const v = row[key];
  if (v === null || v === undefined) return null;
  if (typeof v === 'object' && !Array.isArray(v)) return v as JsonObject;
  throw bad(key, 'object', v);
}

export function textArray(row: DbRow, key: string): string[] {
  const v = row[key];
  if (v === null || v === undefined) return [];
  if (Array.isArray(v)) return v.map((item) => String(item));
  throw bad(key, 'text[]', v);
}

/** A value for a jsonb parameter: JSON text, so both drivers pass it through unchanged. */
export function jsonParam(value: JsonValue | undefined): string | null {
  return value === undefined ? null : JSON.stringify(value);
}

/** An optional value as a SQL parameter (undefined becomes NULL). */
export function opt<T>(value: T | undefined): T | null {
  return value === undefined ? null : value;
}
