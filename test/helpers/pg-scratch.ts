import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * Scratch schemas and databases on the PostgreSQL of the development and CI machines. An
 * unreachable database fails the tests that use these: they are never skipped.
 */
export const PG_URL = process.env['NOETL_TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface PgTarget {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: string;
}

export function pgTarget(database?: string): PgTarget {
  const url = new URL(PG_URL);
  return {
    host: url.hostname,
    port: Number(url.port || 5432),
    user: decodeURIComponent(url.username || 'postgres'),
    password: decodeURIComponent(url.password),
    database: database ?? url.pathname.slice(1),
  };
}

export function urlFor(database: string): string {
  const url = new URL(PG_URL);
  url.pathname = `/${database}`;
  return url.toString();
}

export function scratchName(prefix: string): string {
  return `${prefix}_${randomBytes(5).toString('hex')}`;
}

/** Runs `fn` with a fresh client on `url`, closed afterwards. */
export async function withPg<T>(fn: (client: pg.Client) => Promise<T>, url = PG_URL): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Creates a schema in the test database; drop it with dropSchema. */
export async function createSchema(prefix = 'noetl_t'): Promise<string> {
  const schema = scratchName(prefix);
  await withPg((c) => c.query(`CREATE SCHEMA ${schema}`));
  return schema;
}

export async function dropSchema(schema: string): Promise<void> {
  await withPg((c) => c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`));
}

/** Creates a database (for fixtures with hard-coded `public.`/`noetl.` names); drop with dropDatabase. */
export async function createDatabase(prefix = 'noetl_conf'): Promise<string> {
  const name = scratchName(prefix);
  await withPg((c) => c.query(`CREATE DATABASE ${name}`));
  return name;
}

export async function dropDatabase(name: string): Promise<void> {
  await withPg((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
}
