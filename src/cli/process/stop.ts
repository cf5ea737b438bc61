import { isAlive } from './pid-file.js';

/** How long `stop` waits after SIGTERM before giving up or, with --force, sending SIGKILL. */
export const STOP_GRACE_MS = 10_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitGone(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (isAlive(pid)) {
    if (Date.now() > deadline) return false;
    await sleep(100);
  }
  return true;
}

export type StopOutcome = 'stopped' | 'killed' | 'still-running';

/**
 * SIGTERM (the process drains and exits), wait up to `graceMs`; then SIGKILL when `force`, else
 * report that it is still stopping.
 */
export async function terminate(pid: number, force: boolean, graceMs = STOP_GRACE_MS): Promise<StopOutcome> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return 'stopped';
    throw err;
  }
  if (await waitGone(pid, graceMs)) return 'stopped';
  if (!force) return 'still-running';
  try {
    process.kill(pid, 'SIGKILL');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return 'stopped';
    throw err;
  }
  await waitGone(pid, 5_000);
  return 'killed';
}
