import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { open, readdir, rename, rm, rmdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NoetlError } from '../../shared/index.js';

/**
 * Creating a PGlite cluster runs initdb in a second WASM instance; the process is left with
 * ~660 MB RSS that only a full GC (which an idle server may never run) gives back, against
 * ~180 MB after a warm open. So a new data directory is made by a short-lived child process and
 * the store then opens it warm: cold start costs one extra warm open (~0.5-1 s), once. The
 * cluster is built beside the data directory and renamed into place when complete, so a crash
 * midway leaves no half-made database behind. Callers hold the data directory lock.
 */

/** The package root: `src/store/pglite` and `dist/store/pglite` are both three levels down. */
const PACKAGE_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

const CHILD_SCRIPT = `
const { PGlite } = await import('@electric-sql/pglite');
const [dataDir, startParams] = JSON.parse(process.argv[1]);
const db = await PGlite.create({ dataDir, startParams });
await db.close();
`;

export function needsInit(dataDir: string): boolean {
  return !existsSync(join(dataDir, 'PG_VERSION'));
}

export async function initDataDirInChild(dataDir: string, startParams: readonly string[]): Promise<void> {
  await removeIfEmpty(dataDir);
  const building = `${dataDir}.initializing`;
  await rm(building, { recursive: true, force: true });
  await runInitChild(building, startParams);
  // The child wrote through PGlite's filesystem, which cannot fsync: flush the new cluster now.
  await fsyncTree(building);
  await rename(building, dataDir);
  await fsyncPath(dirname(dataDir));
}

/** Makes room for the new cluster; anything already in the directory is not ours to delete. */
async function removeIfEmpty(dataDir: string): Promise<void> {
  try {
    await rmdir(dataDir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    throw new NoetlError('UNAVAILABLE', `${dataDir} is not empty and holds no database (no PG_VERSION)`, {
      cause: error,
    });
  }
}

function runInitChild(dataDir: string, startParams: readonly string[]): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--input-type=module', '-e', CHILD_SCRIPT, JSON.stringify([dataDir, startParams])],
      { cwd: PACKAGE_ROOT, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-2000);
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (code === 0) resolve();
      else {
        const how = signal ?? `exit code ${String(code)}`;
        reject(
          new NoetlError('UNAVAILABLE', `creating the database in ${dataDir} failed (${how}): ${stderr}`),
        );
      }
    });
  });
}

async function fsyncTree(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await fsyncTree(path);
    else if (entry.isFile()) await fsyncPath(path);
  }
  await fsyncPath(dir);
}

async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
