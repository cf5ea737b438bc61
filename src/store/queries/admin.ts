/** Migration bookkeeping, locks and validation. */

export const ADMIN_SQL = {
  /** Blocks until this transaction holds the named lock (released at commit or rollback). */
  lock: `SELECT pg_advisory_xact_lock(hashtext($1::text))`,

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
