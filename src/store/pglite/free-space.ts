import { statfsSync } from 'node:fs';

/**
 * Below this much free space the embedded database is reported unhealthy: PostgreSQL needs room
 * for a new WAL segment (16 MB) at every segment switch, and a write that cannot extend a file
 * fails. Health says so before writes start failing, and again as soon as space returns.
 */
export const MIN_FREE_BYTES = 16 * 1024 * 1024;

const MB = 1024 * 1024;

/**
 * Why the filesystem holding `dir` is too full for the database, or undefined when it is not.
 * Synchronous, as PGlite's own file access is: health answers without a thread-pool round trip,
 * in the gap a big statement leaves before it blocks the thread (pglite-db.ts).
 */
export function storageShortage(dir: string, minFree = MIN_FREE_BYTES): string | undefined {
  let free: number;
  try {
    const s = statfsSync(dir);
    free = s.bavail * s.bsize;
  } catch {
    return undefined; // no statfs here: the ping and the write errors are all we have
  }
  if (free >= minFree) return undefined;
  return `storage full: ${(free / MB).toFixed(1)} MB free under ${dir}, the database needs at least ${minFree / MB} MB`;
}
