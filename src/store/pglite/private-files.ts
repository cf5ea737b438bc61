import { chmodSync, lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Bits for group and others: none of noetl's files are for anyone but their owner. */
const GROUP_OTHER = 0o077;

/**
 * Takes group and other permissions off `root` and everything under it (docs/security.md: files
 * under `$NOETL_HOME` are private). PGlite writes its cluster with explicit modes (0666 files,
 * whatever the umask says), and installs made before the umask was set hold such files: they are
 * fixed here. Symbolic links are neither followed nor changed; a missing `root` is nothing to do.
 * Returns how many entries were changed.
 *
 * The walk is synchronous on purpose: it runs at start-up (over the home, then the data
 * directory, about 1,100 entries for a new cluster), where one `lstat` per await cost 70-100 ms
 * a walk against 6-11 ms in one go (docs/benchmarks.md, "Embedded server start-up").
 */
export function makePrivate(root: string): Promise<number> {
  try {
    return Promise.resolve(walk(root));
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}

function walk(root: string): number {
  let changed = 0;
  const pending = [root];
  while (pending.length > 0) {
    const path = pending.pop()!;
    try {
      const stat = lstatSync(path);
      if (stat.isSymbolicLink()) continue;
      if ((stat.mode & GROUP_OTHER) !== 0) {
        chmodSync(path, stat.mode & 0o7700);
        changed++;
      }
      if (stat.isDirectory()) {
        for (const name of readdirSync(path)) pending.push(join(path, name));
      }
    } catch (error) {
      // removed while we walked (a temporary file of the database): nothing to protect
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  return changed;
}
