import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NoetlError } from '../shared/index.js';
import type { Db } from './db.js';
import { bindSchema } from './queries/bind.js';
import type { BoundSql } from './repos/context.js';
import { num, text } from './rows.js';

/**
 * Forward-only migrations: `migrations/NNNN_name.sql` at the package root, each applied once,
 * in order, recorded in `<schema>.migrations` with a checksum. The files name tables as
 * `{{schema}}.table`, so the same files build `noetl` in production and a scratch schema in tests.
 */

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
  readonly checksum: string;
}

const FILE_NAME = /^(\d{4})_[a-z0-9_]+\.sql$/;

/** `<package>/migrations`: two levels above both src/store and dist/store. */
export function defaultMigrationsDir(): string {
  return fileURLToPath(new URL('../../migrations/', import.meta.url));
}

export async function loadMigrations(dir: string = defaultMigrationsDir()): Promise<Migration[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (cause) {
    throw new NoetlError('DB_ERROR', `cannot read migrations directory ${dir}`, { cause });
  }
  const migrations: Migration[] = [];
  for (const name of names.sort()) {
    const match = FILE_NAME.exec(name);
    if (!match?.[1]) continue;
    const sql = await readFile(join(dir, name), 'utf8');
    const checksum = createHash('sha256').update(sql).digest('hex');
    migrations.push({ version: Number(match[1]), name, sql, checksum });
  }
  const versions = new Set(migrations.map((m) => m.version));
  if (versions.size !== migrations.length) {
    throw new NoetlError('DB_ERROR', `two migrations share a number in ${dir}`);
  }
  return migrations;
}

interface Applied {
  readonly version: number;
  readonly name: string;
  readonly checksum: string;
}

async function readApplied(db: Db, sql: BoundSql): Promise<Applied[]> {
  const result = await db.query(sql.admin.applied);
  return result.rows.map((row) => ({
    version: num(row, 'version'),
    name: text(row, 'name'),
    checksum: text(row, 'checksum'),
  }));
}

function pendingOf(migrations: readonly Migration[], applied: readonly Applied[]): Migration[] {
  const done = new Map(applied.map((a) => [a.version, a]));
  for (const m of migrations) {
    const a = done.get(m.version);
    if (a && a.checksum !== m.checksum) {
      throw new NoetlError(
        'DB_ERROR',
        `migration ${m.name} changed after it was applied (as ${a.name}); add a new migration instead`,
      );
    }
  }
  return migrations.filter((m) => !done.has(m.version));
}

/**
 * Applies pending migrations in one transaction under an advisory lock, so replicas starting
 * together neither race on CREATE SCHEMA nor apply a file twice. Returns the applied names.
 */
export async function runMigrations(
  db: Db,
  sql: BoundSql,
  schema: string,
  migrations: readonly Migration[],
): Promise<string[]> {
  return db.tx(async (tx) => {
    await tx.query(sql.admin.lock, [`noetl.migrate:${schema}`]);
    await tx.query(sql.admin.createSchema);
    await tx.query(sql.admin.createMigrations);
    const pending = pendingOf(migrations, await readApplied(tx, sql));
    for (const m of pending) {
      try {
        await tx.exec(bindSchema(m.sql, schema));
      } catch (cause) {
        throw new NoetlError('DB_ERROR', `migration ${m.name} failed: ${String(cause)}`, { cause });
      }
      await tx.query(sql.admin.recordMigration, [m.version, m.name, m.checksum]);
    }
    return pending.map((m) => m.name);
  });
}

/** Names of migrations not yet applied (all of them when the schema does not exist). */
export async function pendingMigrations(
  db: Db,
  sql: BoundSql,
  migrations: readonly Migration[],
): Promise<string[]> {
  const exists = await db.query(sql.admin.migrationsExist);
  if (exists.rows[0]?.['present'] !== true) return migrations.map((m) => m.name);
  return pendingOf(migrations, await readApplied(db, sql)).map((m) => m.name);
}
