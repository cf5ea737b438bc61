import { readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isPlainObject, NoetlError } from '../../shared/index.js';

export type ProcessKind = 'server' | 'worker';

/**
 * What a PID file holds: JSON with the pid and how to reach the process (docs/cli.md). A file
 * holding only a number (NoETL's format) is read too.
 */
export interface PidRecord {
  readonly pid: number;
  readonly kind: ProcessKind;
  /** Worker name (`noetl_worker_<name>.pid`). */
  readonly name?: string;
  /** Server: its URL; worker: the server it talks to. */
  readonly url?: string;
  readonly host?: string;
  readonly port?: number;
  /** Worker: `http://host:port` of its /health and /metrics. */
  readonly metrics_url?: string;
  readonly pool?: string;
  readonly started_at?: string;
  readonly log?: string;
  readonly foreground?: boolean;
}

const NAME_RE = /^[A-Za-z0-9_.-]{1,100}$/;

export function checkWorkerName(name: string): string {
  if (!NAME_RE.test(name) || name.startsWith('.')) {
    throw new NoetlError('USAGE', `worker name '${name}' may hold only A-Z a-z 0-9 _ . - (at most 100)`);
  }
  return name;
}

export const serverPidPath = (home: string): string => join(home, 'noetl_server.pid');
export const workerPidPath = (home: string, name: string): string => join(home, `noetl_worker_${name}.pid`);
export const logPath = (home: string, file: string): string => join(home, 'logs', file);

/** The entry script each kind runs: also how a reused pid is told apart from ours. */
export const ENTRY_SUFFIX: Readonly<Record<ProcessKind, string>> = {
  server: 'server/main.js',
  worker: 'worker/main.js',
};

export async function readPidFile(path: string, kind: ProcessKind): Promise<PidRecord | undefined> {
  let text: string;
  try {
    text = (await readFile(path, 'utf8')).trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  if (/^\d+$/.test(text)) return { pid: Number(text), kind };
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isPlainObject(doc) || typeof doc['pid'] !== 'number' || !Number.isInteger(doc['pid']))
    return undefined;
  return { ...(doc as unknown as PidRecord), kind };
}

export async function writePidFile(path: string, record: PidRecord): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, path);
}

export async function removePidFile(path: string): Promise<void> {
  await rm(path, { force: true });
}

/** True while `pid` exists and is not a zombie (an exited child nobody reaped yet). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

/**
 * True when `pid` runs our entry script. Where /proc is readable a pid reused by another
 * program is told apart; elsewhere any live pid counts.
 */
function runsEntry(pid: number, kind: ProcessKind): boolean {
  let cmdline: string;
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return true;
  }
  return cmdline.split('\0').some((arg) => arg.replaceAll('\\', '/').endsWith(ENTRY_SUFFIX[kind]));
}

export interface PidState {
  readonly record?: PidRecord;
  /** A PID file was there but its process is gone (the file has been removed). */
  readonly staleRemoved: boolean;
}

/** The live process of a PID file; a stale file (process gone or pid reused) is removed. */
export async function livePid(path: string, kind: ProcessKind): Promise<PidState> {
  const record = await readPidFile(path, kind);
  if (record === undefined) {
    // unreadable content counts as stale
    const existed = await readFile(path).then(
      () => true,
      () => false,
    );
    if (existed) await removePidFile(path);
    return { staleRemoved: existed };
  }
  if (isAlive(record.pid) && runsEntry(record.pid, kind)) return { record, staleRemoved: false };
  await removePidFile(path);
  return { staleRemoved: true };
}

/** Names of the workers that have a PID file in `home`. */
export async function workerNames(home: string): Promise<string[]> {
  let files: string[];
  try {
    files = await readdir(home);
  } catch {
    return [];
  }
  return files
    .map((f) => /^noetl_worker_(.+)\.pid$/.exec(f)?.[1])
    .filter((n): n is string => n !== undefined)
    .sort();
}
