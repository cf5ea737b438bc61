import { chmod, lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** Bits for group and others: none of noetl's files are for anyone but their owner. */
const GROUP_OTHER = 0o077;

/**
 * Takes group and other permissions off `root` and everything under it (DESIGN.md 7: files under
 * `$NOETL_HOME` are private). PGlite writes its cluster with explicit modes (0666 files, whatever
 * the umask says), and installs made before the umask was set hold such files: they are fixed
 * here. Symbolic links are neither followed nor changed; a missing `root` is nothing to do.
 * Returns how many entries were changed.
 */
export async function makePrivate(root: string): Promise<number> {
  let changed = 0;
  const pending = [root];
  while (pending.length > 0) {
    const path = pending.pop()!;
    try {
      const stat = await lstat(path);
      if (stat.isSymbolicLink()) continue;
      if ((stat.mode & GROUP_OTHER) !== 0) {
        await chmod(path, stat.mode & 0o7700);
        changed++;
      }
      if (stat.isDirectory()) {
        for (const name of await readdir(path)) pending.push(join(path, name));
      }
    } catch (error) {
      // removed while we walked (a temporary file of the database): nothing to protect
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  return changed;
}
