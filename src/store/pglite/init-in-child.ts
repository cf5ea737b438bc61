import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { cp, mkdir, open, readdir, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NoetlError } from '../../shared/index.js';
import { makePrivate } from './private-files.js';

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

/** Where fresh clusters are kept for reuse: initdb in WASM takes seconds, a copy milliseconds. */
export const DEFAULT_TEMPLATE_CACHE = join(homedir(), '.cache', 'noetl');

function templateDir(cacheDir: string, startParams: readonly string[]): string {
  const pkg = JSON.parse(
    readFileSync(join(PACKAGE_ROOT, 'node_modules', '@electric-sql', 'pglite', 'package.json'), 'utf8'),
  ) as { version: string };
  const key = createHash('sha256')
    .update(JSON.stringify([pkg.version, startParams]))
    .digest('hex')
    .slice(0, 16);
  return join(cacheDir, `pglite-cluster-${pkg.version}-${key}`);
}

const COMPLETE = '.noetl-template-complete';

/**
 * Makes a new, empty cluster in `dataDir`: a copy of a cached fresh cluster when there is one
 * (same PGlite version and start parameters), else initdb in a child process, whose result is
 * also cached for the next new data directory. The cache holds no data: only initdb's output.
 */
export async function initDataDirInChild(
  dataDir: string,
  startParams: readonly string[],
  cacheDir: string | false = DEFAULT_TEMPLATE_CACHE,
): Promise<void> {
  await removeIfEmpty(dataDir);
  const building = `${dataDir}.initializing`;
  await rm(building, { recursive: true, force: true });
  let template: string | undefined;
  try {
    template = cacheDir === false ? undefined : templateDir(cacheDir, startParams);
  } catch {
    template = undefined;
  }
  if (template && existsSync(join(template, COMPLETE))) {
    await makePrivate(template); // a cache from before modes were fixed: 0666 files
    await cp(template, building, { recursive: true });
    await rm(join(building, COMPLETE), { force: true });
  } else {
    await runInitChild(building, startParams);
    if (template) await saveTemplate(building, template).catch(() => undefined);
  }
  // The child wrote through PGlite's filesystem, which cannot fsync: flush the new cluster now.
  await makePrivate(building);
  await fsyncTree(building);
  await rename(building, dataDir);
  await fsyncPath(dirname(dataDir));
}

async function saveTemplate(cluster: string, template: string): Promise<void> {
  const partial = `${template}.${process.pid}.partial`;
  await mkdir(dirname(template), { recursive: true, mode: 0o700 });
  await rm(partial, { recursive: true, force: true });
  await cp(cluster, partial, { recursive: true });
  await writeFile(join(partial, COMPLETE), '', { mode: 0o600 });
  await makePrivate(partial);
  await rename(partial, template).catch(async () => {
    await rm(partial, { recursive: true, force: true }); // another process saved it first
  });
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
