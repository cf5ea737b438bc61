import { NoetlError } from '../../shared/index.js';
import { EXIT } from '../exit.js';
import { note } from '../output.js';
import type { Launched } from './launch.js';
import { readPidFile, removePidFile, writePidFile, type PidRecord } from './pid-file.js';

/** `--timeout SECONDS` of a start, in ms. */
export function startTimeoutMs(raw: string | undefined, fallbackSeconds: number): number {
  if (raw === undefined) return fallbackSeconds * 1000;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0)
    throw new NoetlError('USAGE', `--timeout must be a positive number of seconds, got '${raw}'`);
  return n * 1000;
}

/** Prints the last lines of a log under a failed start. */
export function showTail(logFile: string, tail: readonly string[]): void {
  if (tail.length === 0) return;
  note(`last lines of ${logFile}:`);
  for (const line of tail) note(`  | ${line}`);
}

/**
 * `--foreground`: the process runs attached to this terminal; its PID file lets `stop` and
 * `status` work from another one. Ctrl-C reaches it directly (same process group); a SIGTERM to
 * the CLI is passed on. Returns its exit code.
 */
export async function runAttached(launched: Launched, pidPath: string, record: PidRecord): Promise<number> {
  await writePidFile(pidPath, record);
  const onTerm = (): void => {
    launched.child.kill('SIGTERM');
  };
  const onInt = (): void => undefined;
  process.on('SIGTERM', onTerm);
  process.on('SIGINT', onInt);
  try {
    const { code, signal } = await launched.exited;
    if (signal !== null) return signal === 'SIGINT' ? EXIT.interrupted : EXIT.failed;
    return code ?? EXIT.failed;
  } finally {
    process.off('SIGTERM', onTerm);
    process.off('SIGINT', onInt);
    const current = await readPidFile(pidPath, record.kind);
    if (current?.pid === record.pid) await removePidFile(pidPath);
  }
}
