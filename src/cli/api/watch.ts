import type { ControlPlaneClient, EventView } from '../../client/index.js';
import type { ExecutionEvent } from '../../engine/index.js';
import { EXIT } from '../exit.js';
import { note, print, printJson } from '../output.js';
import { formatFailure, StepOutputs } from '../step-output.js';
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

/** Where the execution stream is read: the client's server and token. */
export interface StreamSource {
  readonly baseUrl: string;
  readonly apiToken?: string;
}

const STATUS_OF_TERMINAL: Readonly<Record<string, string>> = {
  'playbook.completed': 'COMPLETED',
  'playbook.failed': 'FAILED',
  playbook_cancelled: 'CANCELLED',
};
/** No byte for this long (the server pings every 15 s): the connection is gone. */
const STREAM_SILENCE_MS = 45_000;

interface StreamOutcome {
  /** The terminal status, when the stream delivered the terminal event. */
  readonly status?: string;
  /** The last event delivered (polling resumes after it). */
  readonly lastId?: string;
}

/**
 * Follows `GET /api/executions/{id}/stream` (server-sent events) to the terminal event. Anything
 * else (a server without the route answers 404, an error status, a dropped connection) returns
 * what was delivered so far, and the caller polls from there: the output is the same either way.
 */
async function followStream(
  source: StreamSource,
  id: string,
  onEvent: (e: EventView) => void,
  signal: AbortSignal | undefined,
): Promise<StreamOutcome> {
  const controller = new AbortController();
  const abort = (): void => controller.abort();
  signal?.addEventListener('abort', abort, { once: true });
  let silence: NodeJS.Timeout | undefined;
  const quiet = (): void => {
    if (silence) clearTimeout(silence);
    silence = setTimeout(abort, STREAM_SILENCE_MS);
  };
  let lastId: string | undefined;
  try {
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (source.apiToken) headers['authorization'] = `Bearer ${source.apiToken}`;
    quiet();
    const res = await fetch(`${source.baseUrl}/api/executions/${encodeURIComponent(id)}/stream`, {
      headers,
      signal: controller.signal,
    });
    if (!res.ok || !res.body || !/^text\/event-stream/.test(res.headers.get('content-type') ?? '')) {
      await res.body?.cancel().catch(() => undefined);
      return {};
    }
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of res.body) {
      quiet();
      buffer += decoder.decode(chunk as Uint8Array, { stream: true });
      let cut: number;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const data = block
          .split('\n')
          .filter((line) => line.startsWith('data:'))
          .map((line) => line.slice(line.startsWith('data: ') ? 6 : 5))
          .join('\n');
        if (data === '') continue;
        const e = JSON.parse(data) as EventView;
        onEvent(e);
        lastId = e.event_id;
        const status = STATUS_OF_TERMINAL[e.event_type];
        if (status !== undefined) return { status, lastId };
      }
    }
    return lastId !== undefined ? { lastId } : {};
  } catch {
    return lastId !== undefined ? { lastId } : {};
  } finally {
    if (silence) clearTimeout(silence);
    signal?.removeEventListener('abort', abort);
    controller.abort();
  }
}

/**
 * Reads an execution's events in order until the execution is terminal (or `follow` is false and
 * the log is read). Following reads the server's event stream when `stream` is given, else (and
 * on a server without it) polls with `after=`. Returns the last status the server reported.
 */
export async function readEvents(
  client: ControlPlaneClient,
  id: string,
  onEvent: (e: EventView) => void,
  options: { follow: boolean; signal?: AbortSignal; stream?: StreamSource },
): Promise<string> {
  let after: string | undefined;
  let idle = 0;
  if (options.follow && options.stream) {
    const streamed = await followStream(options.stream, id, onEvent, options.signal);
    if (streamed.status !== undefined) return streamed.status;
    if (options.signal?.aborted) return 'RUNNING';
    after = streamed.lastId;
  }
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
  stream?: StreamSource,
): Promise<number> {
  const tracker = new StepTracker();
  // A failed step's message, failing code line and last output, as `noetl run` prints them: the
  // server's events carry the same tool results (`result.context`) as the local log.
  const outputs = new StepOutputs();
  const progress = json ? undefined : new ProgressWriter(process.stderr, process.stderr.isTTY);
  const interrupt = interruptSignal();
  const onEvent = (e: EventView): void => {
    outputs.onEvent(e as unknown as ExecutionEvent);
    progress?.write(tracker.onEvent(e));
  };
  try {
    await readEvents(client, id, onEvent, {
      follow: true,
      signal: interrupt.signal,
      ...(stream !== undefined ? { stream } : {}),
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
  const failures =
    outcome === 'COMPLETED' ? [] : outputs.failedSteps().flatMap((step) => outputs.failure(step) ?? []);
  if (json) {
    printJson({
      ...status,
      status: outcome,
      final_result: result?.final_result ?? null,
      ...(failures.length > 0 ? { failures } : {}),
    });
  } else {
    const steps = tracker.stepsRun() || (status.completed_steps?.length ?? 0);
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
      const error = status.error ?? (outcome === 'CANCELLED' ? 'cancelled' : 'unknown error');
      note(`error[${code}]: ${error}`);
      for (const f of failures) process.stderr.write(formatFailure(f, '', !error.includes(f.message)));
      note(`  hint: \`noetl logs ${id}\` shows what its steps printed, \`noetl events ${id}\` every event`);
    }
  }
  return outcome === 'COMPLETED' ? EXIT.ok : EXIT.failed;
}
