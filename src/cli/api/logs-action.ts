import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NoetlError } from '../../shared/index.js';
import type { GlobalFlags } from '../cli-config.js';
import { EXIT } from '../exit.js';
import type { CliContext } from '../main.js';
import { formatOutputLine, LiveOutputLines, OutputLabels, type LooseEvent } from '../step-output.js';
import { connectApi, executionId } from './connect.js';
import { interruptSignal, readEvents } from './watch.js';

export interface LogsOptions {
  readonly step?: string;
  readonly follow?: boolean;
  readonly json?: boolean;
}

/** Prints the output lines of one event: `[step] | text`, or NDJSON `{step, ts, stream, text}`. */
function printer(opts: LogsOptions): (e: LooseEvent & { readonly meta?: unknown }) => void {
  const labels = new OutputLabels();
  const live = new LiveOutputLines();
  return (e) => {
    labels.onEvent(e);
    if (opts.step !== undefined && e.node_name !== opts.step) return;
    const lines = live.of(e);
    if (lines.length === 0) return;
    const commandId = (e.meta as { command_id?: unknown } | null | undefined)?.command_id;
    const label = labels.label(e.node_name, commandId);
    const at = labels.iteration(commandId);
    const iteration = at === undefined ? {} : { iteration: at };
    for (const line of lines) {
      process.stdout.write(
        opts.json
          ? `${JSON.stringify({ step: e.node_name, ...iteration, ...line })}\n`
          : formatOutputLine(label, line),
      );
    }
  };
}

/** The JSONL event log `noetl run` wrote for this execution under the current directory. */
export function localLogFile(id: string, cwd = process.cwd()): string | undefined {
  if (!/^[0-9]+$/.test(id)) return undefined;
  const file = join(cwd, '.noetl', 'runs', `${id}.jsonl`);
  return existsSync(file) ? file : undefined;
}

/**
 * `noetl logs ID [--step NAME] [--follow] [--json]`: what an execution's steps printed. A local
 * run's log (`.noetl/runs/ID.jsonl`) is read when it exists, else the server's events;
 * `--follow` reads the server's event stream until the execution ends.
 */
export async function logsAction(
  ctx: CliContext,
  flags: GlobalFlags,
  rawId: string,
  opts: LogsOptions,
): Promise<number> {
  const print = printer(opts);
  const local = localLogFile(rawId.trim());
  if (local) {
    for (const text of readFileSync(local, 'utf8').split('\n')) {
      if (text.trim() === '') continue;
      let event: unknown;
      try {
        event = JSON.parse(text);
      } catch {
        throw new NoetlError('BAD_REQUEST', `${local}: a line is not JSON`);
      }
      print(event as LooseEvent);
    }
    return EXIT.ok;
  }
  const id = executionId(rawId);
  const api = await connectApi(ctx, flags);
  const interrupt = interruptSignal();
  try {
    await readEvents(api.client, id, (e) => print(e), {
      follow: opts.follow === true,
      signal: interrupt.signal,
      stream: {
        baseUrl: api.client.baseUrl,
        ...(api.apiToken !== undefined ? { apiToken: api.apiToken } : {}),
      },
    });
  } finally {
    interrupt.dispose();
  }
  return interrupt.signal.aborted ? EXIT.interrupted : EXIT.ok;
}
