import type { ControlPlaneClient, EventView } from '../../worker/client.js';
import { EXIT } from '../exit.js';
import { note, print, printJson } from '../output.js';
import { ProgressWriter, StepTracker } from './step-tracker.js';

export const TERMINAL_STATUSES: ReadonlySet<string> = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);
const PAGE = 1000;

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve();
      return;
    }
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Reads an execution's events in order, polling with `after=` until the execution is terminal
 * (or `follow` is false and the log is read). Returns the last status the server reported.
 */
export async function readEvents(
  client: ControlPlaneClient,
  id: string,
  onEvent: (e: EventView) => void,
  options: { follow: boolean; signal?: AbortSignal },
): Promise<string> {
  let after: string | undefined;
  let idle = 0;
  for (;;) {
    const page = await client.events(
      id,
      { ...(after !== undefined ? { after } : {}), limit: PAGE },
      options.signal,
    );
    for (const e of page.events) {
      onEvent(e);
      after = e.event_id;
    }
    if (page.events.length >= PAGE) continue;
    const status = page.status.toUpperCase();
    // The status is read before the events: terminal there means this page holds the last ones.
    if (!options.follow || TERMINAL_STATUSES.has(status)) return status;
    if (options.signal?.aborted) return status;
    idle = page.events.length > 0 ? 0 : idle + 1;
    await sleep(Math.min(1000, 150 * 2 ** Math.min(idle, 3)), options.signal);
    if (options.signal?.aborted) return status;
  }
}

/** Aborts on the first Ctrl-C (the CLI then says the execution keeps running). */
export function interruptSignal(): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onSigint = (): void => controller.abort();
  process.once('SIGINT', onSigint);
  return { signal: controller.signal, dispose: () => process.off('SIGINT', onSigint) };
}

/**
 * `--wait`: shows step progress (stderr) while the execution runs, then its outcome: exit 0 when
 * COMPLETED, 1 when FAILED or CANCELLED, 130 when interrupted (the execution keeps running).
 */
export async function waitForExecution(
  client: ControlPlaneClient,
  id: string,
  json: boolean,
): Promise<number> {
  const tracker = new StepTracker();
  const progress = json ? undefined : new ProgressWriter(process.stderr, process.stderr.isTTY);
  const interrupt = interruptSignal();
  try {
    await readEvents(client, id, (e) => progress?.write(tracker.onEvent(e)), {
      follow: true,
      signal: interrupt.signal,
    });
  } finally {
    progress?.end();
    interrupt.dispose();
  }
  if (interrupt.signal.aborted) {
    note(
      `stopped waiting: execution ${id} keeps running (see \`noetl status ${id}\`, stop it with \`noetl cancel ${id}\`)`,
    );
    return EXIT.interrupted;
  }
  const status = await client.executionStatus(id);
  const result = await client.result(id).catch(() => undefined);
  const outcome = status.status.toUpperCase();
  if (json) {
    printJson({ ...status, status: outcome, final_result: result?.final_result ?? null });
  } else {
    const steps = status.completed_steps?.length ?? 0;
    const took =
      typeof status.duration_seconds === 'number' ? ` in ${status.duration_seconds.toFixed(2)}s` : '';
    const line = `${outcome} ${status.path ?? ''}${took} (${steps} step${steps === 1 ? '' : 's'}), execution ${id}`;
    if (outcome === 'COMPLETED') {
      print(line);
      const final = result?.final_result;
      if (final !== null && final !== undefined) print(`result: ${JSON.stringify(final)}`);
    } else {
      note(line);
      const code = outcome === 'CANCELLED' ? 'CANCELLED' : 'STEP_FAILED';
      note(`error[${code}]: ${status.error ?? (outcome === 'CANCELLED' ? 'cancelled' : 'unknown error')}`);
      note(`  hint: \`noetl events ${id}\` shows every event`);
    }
  }
  return outcome === 'COMPLETED' ? EXIT.ok : EXIT.failed;
}
