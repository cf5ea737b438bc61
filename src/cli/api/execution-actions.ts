import type { EventView } from '../../client/index.js';
import { NoetlError } from '../../shared/index.js';
import type { GlobalFlags } from '../cli-config.js';
import { EXIT } from '../exit.js';
import type { CliContext } from '../main.js';
import { cell, print, printJson, table } from '../output.js';
import { listExecutions, STATUS_FILTERS, took } from '../tui/model.js';
import { workloadFromFlags } from '../workload.js';
import { connectApi, executionId, type Api } from './connect.js';
import { formatStepTree, stepTree } from './step-tree.js';
import { interruptSignal, readEvents, waitForExecution, type StreamSource } from './watch.js';

/** The server's event stream, read with the client's token. */
function streamOf(api: Api): StreamSource {
  return { baseUrl: api.client.baseUrl, ...(api.apiToken !== undefined ? { apiToken: api.apiToken } : {}) };
}

export interface ExecuteOptions {
  readonly input?: string;
  readonly set?: readonly string[];
  readonly payload?: string;
  readonly version?: string;
  readonly pool?: string;
  readonly wait?: boolean;
  readonly json?: boolean;
}

function versionOf(raw: string | undefined): number | 'latest' | undefined {
  if (raw === undefined || raw === 'latest') return raw;
  if (!/^\d+$/.test(raw) || Number(raw) < 1)
    throw new NoetlError('USAGE', `--version must be a number or 'latest', got '${raw}'`);
  return Number(raw);
}

/** `noetl execute playbook PATH`: POST /api/execute; with --wait follows it to the end. */
export async function executePlaybook(
  ctx: CliContext,
  flags: GlobalFlags,
  path: string,
  opts: ExecuteOptions,
): Promise<number> {
  const payload = await workloadFromFlags({
    set: opts.set ?? [],
    ...(opts.payload !== undefined ? { payload: opts.payload } : {}),
    ...(opts.input !== undefined ? { input: opts.input } : {}),
  });
  const version = versionOf(opts.version);
  const api = await connectApi(ctx, flags);
  const { client } = api;
  const started = await client.execute({
    path,
    payload,
    resource_kind: 'playbook',
    ...(version !== undefined ? { version } : {}),
    ...(opts.pool !== undefined ? { execution_pool: opts.pool } : {}),
  });
  const id = started.execution_id;
  if (opts.wait) return waitForExecution(client, id, opts.json === true, streamOf(api));
  if (opts.json) printJson(started);
  else
    print(
      `execution ${id} started (${path})\n  watch it: noetl events ${id} --follow   or: noetl status ${id}`,
    );
  return EXIT.ok;
}

/** `noetl status ID`. */
export async function statusAction(
  ctx: CliContext,
  flags: GlobalFlags,
  rawId: string,
  opts: { json?: boolean },
): Promise<number> {
  const id = executionId(rawId);
  const { client } = await connectApi(ctx, flags);
  const s = await client.executionStatus(id);
  const events: EventView[] = [];
  await readEvents(client, id, (e) => events.push(e), { follow: false });
  const steps = stepTree(events);
  if (opts.json) {
    printJson({ ...s, status: s.status.toUpperCase(), steps });
    return EXIT.ok;
  }
  const p = s.progress;
  const lines = [`execution ${s.execution_id}  ${s.status.toUpperCase()}`];
  if (s.path) lines.push(`  path      ${s.path}`);
  if (s.started_at) {
    const took = typeof s.duration_seconds === 'number' ? `  (${s.duration_seconds.toFixed(2)}s)` : '';
    lines.push(`  started   ${s.started_at}${s.completed_at ? `  ended ${s.completed_at}` : ''}${took}`);
  }
  if (p) {
    lines.push(
      `  steps     ${p.completed_steps}/${p.total_steps} completed, ${p.failed_steps} failed, ${p.running_steps} running` +
        (s.current_step ? `  (current: ${s.current_step})` : ''),
    );
  }
  if (s.failed_steps && s.failed_steps.length > 0) lines.push(`  failed    ${s.failed_steps.join(', ')}`);
  if (s.error) lines.push(`  error     ${cell(s.error, 300)}`);
  if (steps.length > 0) lines.push('  step tree', ...formatStepTree(steps));
  print(lines.join('\n'));
  return EXIT.ok;
}

/** The most `noetl executions` lists (the server's page limit). */
const LIST_MAX = 500;

/** `noetl executions`: the newest executions first, filtered by status and path prefix. */
export async function listExecutionsAction(
  ctx: CliContext,
  flags: GlobalFlags,
  opts: { status?: string; path?: string; limit?: string; json?: boolean },
): Promise<number> {
  const status = (opts.status ?? '').toUpperCase();
  if (!(STATUS_FILTERS as readonly string[]).includes(status))
    throw new NoetlError(
      'USAGE',
      `--status must be one of ${STATUS_FILTERS.filter((s) => s !== '').join(', ')}, got '${opts.status}'`,
    );
  const rawLimit = opts.limit ?? '20';
  const limit = Number(rawLimit);
  if (!/^\d+$/.test(rawLimit) || limit < 1 || limit > LIST_MAX)
    throw new NoetlError('USAGE', `--limit must be a whole number from 1 to ${LIST_MAX}, got '${rawLimit}'`);
  const { client } = await connectApi(ctx, flags);
  const rows = await listExecutions(client, { status, path: opts.path ?? '' }, limit);
  if (opts.json) {
    printJson(rows);
    return EXIT.ok;
  }
  if (rows.length === 0) {
    const filter = [status && `status ${status}`, opts.path && `path ${opts.path}*`].filter(Boolean);
    print(filter.length > 0 ? `no executions with ${filter.join(' and ')}` : 'no executions yet');
    return EXIT.ok;
  }
  const now = Date.now();
  print(
    table(
      ['execution_id', 'status', 'started', 'took', 'path', 'error'],
      rows.map((r) => [r.execution_id, r.status, r.started_at, took(r, now), r.path, r.error ?? '']),
      60,
    ),
  );
  return EXIT.ok;
}

/** `noetl cancel ID`. */
export async function cancelAction(
  ctx: CliContext,
  flags: GlobalFlags,
  rawId: string,
  opts: { reason?: string; cascade?: boolean; json?: boolean },
): Promise<number> {
  const id = executionId(rawId);
  const { client } = await connectApi(ctx, flags);
  const r = await client.cancel(id, opts.reason, opts.cascade !== false);
  if (opts.json) printJson(r);
  else print(r.message || `execution ${id} cancelled`);
  return EXIT.ok;
}

/** `noetl rerun ID`: the same playbook and workload as a new execution. */
export async function rerunAction(
  ctx: CliContext,
  flags: GlobalFlags,
  rawId: string,
  opts: { wait?: boolean; json?: boolean },
): Promise<number> {
  const id = executionId(rawId);
  const api = await connectApi(ctx, flags);
  const { client } = api;
  const r = await client.rerun(id);
  if (opts.wait) return waitForExecution(client, r.execution_id, opts.json === true, streamOf(api));
  if (opts.json) printJson(r);
  else print(`execution ${r.execution_id} started (rerun of ${id})`);
  return EXIT.ok;
}

/** Fixed widths, so that followed events line up with those already printed. */
const WIDTHS = [24, 18, 16, 9] as const;

function row(cols: readonly string[]): string {
  return cols
    .map((c, i) => c.padEnd(WIDTHS[i] ?? 0))
    .join('  ')
    .trimEnd();
}

function eventLine(e: EventView): string {
  const detail = e.error ? cell(e.error, 200) : e.worker_id ? `worker ${e.worker_id}` : '';
  return row([e.created_at, e.event_type, e.node_name, e.status, detail]);
}

/** `noetl events ID [--follow]`: the event log, one event a line (NDJSON with --json). */
export async function eventsAction(
  ctx: CliContext,
  flags: GlobalFlags,
  rawId: string,
  opts: { follow?: boolean; json?: boolean },
): Promise<number> {
  const id = executionId(rawId);
  const api = await connectApi(ctx, flags);
  const { client } = api;
  let header = !opts.json;
  const interrupt = interruptSignal();
  let status: string;
  try {
    status = await readEvents(
      client,
      id,
      (e) => {
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(e)}\n`);
          return;
        }
        if (header) print(row(['TIME', 'EVENT', 'STEP', 'STATUS', 'DETAIL']));
        header = false;
        print(eventLine(e));
      },
      { follow: opts.follow === true, signal: interrupt.signal, stream: streamOf(api) },
    );
  } finally {
    interrupt.dispose();
  }
  if (interrupt.signal.aborted) return EXIT.interrupted;
  if (opts.follow && !opts.json) print(`execution ${id} ${status}`);
  return EXIT.ok;
}

/** `noetl cleanup`: cancels executions RUNNING for longer than N minutes. */
export async function cleanupAction(
  ctx: CliContext,
  flags: GlobalFlags,
  opts: { olderThanMinutes?: string; dryRun?: boolean; json?: boolean },
): Promise<number> {
  const minutes = opts.olderThanMinutes === undefined ? 5 : Number(opts.olderThanMinutes);
  if (!Number.isFinite(minutes) || minutes < 0) {
    throw new NoetlError(
      'USAGE',
      `--older-than-minutes must be a number >= 0, got '${opts.olderThanMinutes}'`,
    );
  }
  const { client } = await connectApi(ctx, flags);
  const r = await client.cleanup(minutes, opts.dryRun === true);
  if (opts.json) {
    printJson(r);
    return EXIT.ok;
  }
  print(r.message);
  for (const id of r.execution_ids) print(`  ${id}`);
  return EXIT.ok;
}
