import { closeSync, existsSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { NoetlError } from '../../shared/index.js';

/**
 * PGlite does not stop two processes (or two instances in one process) from opening the same
 * data directory, and both would then write it: corruption. `<dataDir>.lock` holds the owner's
 * pid; a lock whose process is gone is stale and taken over. A killed process stays a zombie
 * until its parent reaps it (a detached server's parent is init, which may take seconds): that
 * counts as gone, since a zombie holds no files and will never write again.
 */

export interface DataDirLock {
  release(): void;
}

const heldInThisProcess = new Set<string>();

function isAlive(pid: number): boolean {
  if (pid === process.pid) return false; // ours would be in heldInThisProcess
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  return !isZombie(pid);
}

/**
 * True when /proc says `pid` has exited and waits to be reaped (state Z), or vanished since the
 * signal check; false where there is no /proc.
 */
function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) S ...": comm may hold spaces and parentheses, the state follows the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' && existsSync('/proc/self/stat');
  }
}

function ownerOf(lockPath: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(lockPath, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function inUse(dataDir: string, pid?: number): NoetlError {
  const by = pid === undefined ? 'this process' : `process ${pid}`;
  return new NoetlError('UNAVAILABLE', `data directory ${dataDir} is in use by ${by}`, {
    details: { dataDir, ...(pid === undefined ? {} : { pid }) },
  });
}

export function acquireDataDirLock(dataDir: string): DataDirLock {
  const lockPath = `${dataDir}.lock`;
  if (heldInThisProcess.has(lockPath)) throw inUse(dataDir);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(lockPath, 'wx', 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      heldInThisProcess.add(lockPath);
      let released = false;
      return {
        release: () => {
          if (released) return;
          released = true;
          heldInThisProcess.delete(lockPath);
          try {
            unlinkSync(lockPath);
          } catch {
            // already gone
          }
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new NoetlError('UNAVAILABLE', `cannot lock data directory ${dataDir}`, { cause: error });
      }
      const owner = ownerOf(lockPath);
      if (owner !== undefined && isAlive(owner)) throw inUse(dataDir, owner);
      try {
        unlinkSync(lockPath); // stale: its process is gone
      } catch {
        // someone else removed it first; try again
      }
    }
  }
  throw inUse(dataDir, ownerOf(lockPath));
}
