import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStore } from '../../src/store/index.js';

/**
 * A migrated PGlite cluster to copy, as graphile-worker's tests copy a template database: opening a
 * fresh PGlite store and running every migration takes seconds (tens of seconds on a loaded
 * machine), a copy of the result a fraction of that. The template is made once and kept under
 * the system temp dir, keyed by the PGlite version and the text of every migration, so a changed
 * migration makes a new one; test runs in parallel share it (it appears by an atomic rename).
 */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const TEMPLATES = join(tmpdir(), 'noetl-test-templates');

function templateKey(): string {
  const pglite = JSON.parse(
    readFileSync(join(ROOT, 'node_modules', '@electric-sql', 'pglite', 'package.json'), 'utf8'),
  ) as { version: string };
  const hash = createHash('sha256').update(pglite.version);
  const migrations = join(ROOT, 'migrations');
  for (const file of readdirSync(migrations).sort()) {
    hash.update(file).update(readFileSync(join(migrations, file)));
  }
  return hash.digest('hex').slice(0, 16);
}

let making: Promise<string> | undefined;

function template(): Promise<string> {
  making ??= (async () => {
    const dir = join(TEMPLATES, `pglite-migrated-${templateKey()}`);
    if (existsSync(dir)) return dir; // only a complete cluster is ever renamed to this name
    await mkdir(TEMPLATES, { recursive: true, mode: 0o700 });
    const work = await mkdtemp(`${dir}.partial-`);
    try {
      const store = await openStore({ dataDir: join(work, 'data') });
      await store.close();
      // fails when another process renamed its template first: theirs is as good
      await rename(join(work, 'data'), dir).catch(() => undefined);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
    return dir;
  })();
  making.catch(() => (making = undefined)); // the next caller tries again
  return making;
}

/** Creates `dataDir` as a PGlite cluster with every migration applied. */
export async function migratedPgliteDataDir(dataDir: string): Promise<void> {
  await cp(await template(), dataDir, { recursive: true });
}
