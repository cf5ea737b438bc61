import { assertSchemaName } from './bind.js';

/** Migration bookkeeping, locks and validation. */

export const ADMIN_SQL = {
  /** Blocks until this transaction holds the named lock (released at commit or rollback). */
  lock: `SELECT pg_advisory_xact_lock(hashtext($1::text))`,

  /** `lock` on several names, taken in the order of their hashes (every caller's order). */
  lockMany: `
    SELECT count(pg_advisory_xact_lock(h))::integer AS n
    FROM (SELECT DISTINCT hashtext(k) AS h FROM unnest($1::text[]) AS k ORDER BY 1) s`,

  /** Where an execution's log stands; read after its lock is taken (a fresh snapshot). */
  executionHead: `
    SELECT event_count, last_event_id FROM {{schema}}.execution WHERE execution_id = $1::bigint`,

  createSchema: `CREATE SCHEMA IF NOT EXISTS {{schema}}`,

  createMigrations: `
    CREATE TABLE IF NOT EXISTS {{schema}}.migrations (
      version    integer PRIMARY KEY,
      name       text NOT NULL,
      checksum   text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`,

  /** Cheaper than information_schema, which costs ~80 ms on a cold PGlite. */
  migrationsExist: `SELECT to_regclass('{{schema}}.migrations') IS NOT NULL AS present`,

  applied: `SELECT version, name, checksum FROM {{schema}}.migrations ORDER BY version`,

  recordMigration: `
    INSERT INTO {{schema}}.migrations (version, name, checksum) VALUES ($1::integer, $2::text, $3::text)`,

  tables: `
    SELECT table_name FROM information_schema.tables
    WHERE table_schema = $1::text AND table_type = 'BASE TABLE'
    ORDER BY table_name`,

  ping: `SELECT 1 AS ok`,
} as const;

const BIGINT_MAX = 9223372036854775807n;

/**
 * `lock` (on `key`, the caller's lock name for the execution) and `executionHead` of one
 * execution as text without parameters, to travel with BEGIN in one simple-protocol round trip
 * (which takes no parameters). Only a key of name characters and a decimal id checked here
 * reach the text; anything else gets undefined (the caller then runs the parameterised
 * statements).
 */
export function executionLockPrelude(
  schema: string,
  executionId: string,
  key: string,
  expectedCount?: number,
): string | undefined {
  if (!/^[0-9]{1,19}$/.test(executionId) || BigInt(executionId) > BIGINT_MAX) return undefined;
  if (!/^[A-Za-z0-9_:.-]+$/.test(key)) return undefined;
  const table = `${assertSchemaName(schema)}.execution`;
  const lock = `SELECT pg_advisory_xact_lock(hashtext('${key}'));`;
  if (expectedCount === undefined)
    return `${lock} SELECT event_count, last_event_id FROM ${table} WHERE execution_id = ${executionId}::bigint`;
  if (!Number.isSafeInteger(expectedCount) || expectedCount < 0) return undefined;
  // The head as the caller expects it, or division_by_zero (22012): the transaction is then
  // aborted, so whatever was sent behind this fails and COMMIT rolls back.
  return (
    `${lock} SELECT 1 / count(*)::integer AS head_check FROM ${table}` +
    ` WHERE execution_id = ${executionId}::bigint AND event_count = ${expectedCount}`
  );
}
