import { numericValue, safeInteger, timestampText } from '../sql-values.js';

/**
 * How PostgreSQL values become JSON-friendly step data (documented in docs/tools.md):
 * - int8 (bigint): a number when it is a safe integer, else its exact decimal text;
 * - numeric: a number when it has at most 15 significant digits (so the number prints back the
 *   same), else its exact text;
 * - date: `YYYY-MM-DD`; timestamp: `YYYY-MM-DDTHH:MM:SS[.ffffff]`; timestamptz: the same with its
 *   offset (`+00:00`), as the session's TimeZone gives it (microseconds kept);
 * - interval, bytea (`\x...`), time, timetz, money: PostgreSQL's text;
 * - json/jsonb parsed; arrays of the above converted element-wise; everything else as `pg` gives it.
 */

const identity = (text: string): string => text;

/** Parsers by type oid (text format); arrays by their element's. */
export const VALUE_PARSERS: ReadonlyMap<number, (text: string) => unknown> = new Map<
  number,
  (text: string) => unknown
>([
  [20, safeInteger], // int8
  [1700, numericValue], // numeric
  [1082, identity], // date
  [1114, timestampText], // timestamp
  [1184, timestampText], // timestamptz
  [1186, identity], // interval
  [17, identity], // bytea
  [790, identity], // money
]);

/** Array oid -> element oid, for the types above. */
export const ARRAY_ELEMENTS: ReadonlyMap<number, number> = new Map([
  [1016, 20],
  [1231, 1700],
  [1182, 1082],
  [1115, 1114],
  [1185, 1184],
  [1187, 1186],
  [1001, 17],
  [791, 790],
]);

/** Oid of `text[]`, whose parser splits any array literal into strings and nulls. */
export const TEXT_ARRAY_OID = 1009;
