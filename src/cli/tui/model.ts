import type { ControlPlaneClient, EventView } from '../../client/index.js';
import { isPlainObject } from '../../shared/index.js';
import type { OutputLine } from '../../tools/index.js';
import { duration } from '../output.js';
import { LiveOutputLines, OutputLabels } from '../step-output.js';
import { stepTree, type StepRow } from '../api/step-tree.js';

/** One row of `GET /api/executions` (docs/api.md). */
export interface ExecutionRow {
  readonly execution_id: string;
  readonly path?: string | null;
  readonly status: string;
  readonly started_at?: string | null;
  readonly completed_at?: string | null;
  readonly error?: string | null;
}

/** One row of `GET /api/worker/pools`. */
export interface PoolRow {
  readonly name: string;
  readonly status?: string;
  readonly capacity?: number | null;
  readonly heartbeat?: string | null;
  readonly uri?: string | null;
  readonly runtime?: unknown;
}

export const STATUS_FILTERS = ['', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED'] as const;

export function listExecutions(
  client: ControlPlaneClient,
  filter: { status: string; path: string },
  limit: number,
): Promise<ExecutionRow[]> {
  const q = new URLSearchParams({ limit: String(limit) });
  if (filter.status !== '') q.set('status', filter.status);
  if (filter.path !== '') q.set('path', filter.path);
  return client.request<ExecutionRow[]>('GET', `/api/executions?${q.toString()}`);
}

export function listPools(client: ControlPlaneClient): Promise<PoolRow[]> {
  return client.request<PoolRow[]>('GET', '/api/worker/pools');
}

/** `text` cut or padded to exactly `width` characters. */
export function fit(text: string, width: number): string {
  if (width <= 0) return '';
  if (text.length <= width) return text.padEnd(width);
  return width === 1 ? '…' : `${text.slice(0, width - 1)}…`;
}

function clock(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString().slice(11, 19);
}

/** How long an execution ran (to now while it runs). */
export function took(row: ExecutionRow, now: number): string {
  if (!row.started_at) return '';
  const start = Date.parse(row.started_at);
  const end = row.completed_at ? Date.parse(row.completed_at) : now;
  return Number.isFinite(start) && Number.isFinite(end) ? duration(Math.max(0, end - start)) : '';
}

/** An executions-list line of `width` characters: id, status, start time, duration, path. */
export function executionLine(row: ExecutionRow, width: number, now: number): string {
  const head = `${fit(row.execution_id, 19)} ${fit(row.status, 9)} ${fit(clock(row.started_at), 8)} ${took(row, now).padStart(7)} `;
  return head + fit(row.path ?? '', width - head.length);
}

export const STEP_MARK = { RUNNING: '…', COMPLETED: '✓', FAILED: '✗', SKIPPED: '-' } as const;

/** A step-tree line: mark, name, status, duration, loop progress, attempts. */
export function stepLine(r: StepRow, nameWidth: number, width: number): string {
  const d = r.duration_ms !== undefined ? duration(r.duration_ms) : '';
  const loop = r.loop
    ? ` [${r.loop.done}/${r.loop.total}${r.loop.failed ? `, ${r.loop.failed} failed` : ''}]`
    : '';
  const tries = r.attempts !== undefined && r.attempts > 1 ? ` attempts ${r.attempts}` : '';
  return fit(
    `${STEP_MARK[r.status]} ${r.step.padEnd(nameWidth)} ${r.status.padEnd(9)} ${d.padStart(7)}${loop}${tries}`,
    width,
  );
}

/** A step's error as its `call.error` (or `command.failed`) event carries it. */
export interface StepError {
  readonly code: string;
  readonly message: string;
  readonly traceback: string;
}

/** What the detail view shows of an execution: its step tree, each step's output and error. */
export class ExecutionModel {
  readonly events: EventView[] = [];
  readonly output = new Map<string, { label: string; line: OutputLine }[]>();
  readonly errors = new Map<string, StepError>();
  status = 'RUNNING';
  private readonly labels = new OutputLabels();
  private readonly live = new LiveOutputLines();
  private steps: StepRow[] | undefined;

  add(e: EventView): void {
    this.events.push(e);
    this.steps = undefined;
    this.labels.onEvent(e);
    const lines = this.live.of(e);
    if (lines.length > 0) {
      const label = this.labels.label(e.node_name, e.meta?.['command_id']);
      const kept = this.output.get(e.node_name) ?? [];
      for (const line of lines) kept.push({ label, line });
      this.output.set(e.node_name, kept);
    }
    if (
      e.event_type === 'call.error' ||
      (e.event_type === 'command.failed' && !this.errors.has(e.node_name))
    ) {
      const ctx = (e.result as { context?: unknown } | null | undefined)?.context;
      const error = isPlainObject(ctx) && isPlainObject(ctx['error']) ? ctx['error'] : {};
      const details = isPlainObject(error['details']) ? error['details'] : {};
      this.errors.set(e.node_name, {
        code: typeof error['code'] === 'string' ? error['code'] : 'FAILED',
        message: typeof error['message'] === 'string' ? error['message'] : (e.error ?? 'step failed'),
        traceback: typeof details['traceback'] === 'string' ? details['traceback'] : '',
      });
    }
  }

  stepRows(): StepRow[] {
    this.steps ??= stepTree(this.events);
    return this.steps;
  }

  /** The lines the step view shows: the error, the traceback (when not printed), the output. */
  stepText(step: string): string[] {
    const out: string[] = [];
    const err = this.errors.get(step);
    const printed = this.output.get(step) ?? [];
    if (err) {
      out.push(`error ${err.code}: ${err.message}`);
      const inOutput = err.traceback !== '' && printed.some((p) => p.line.text.startsWith('Traceback'));
      if (err.traceback !== '' && !inOutput) out.push(...err.traceback.replace(/\n$/, '').split('\n'));
      out.push('');
    }
    if (printed.length === 0) out.push('(no output)');
    for (const p of printed) {
      const prefix = p.label === step ? '' : `[${p.label}] `;
      out.push(`${prefix}${p.line.stream === 'stderr' ? '!' : '|'} ${p.line.text}`);
    }
    return out;
  }
}

export const KEYS_HELP = [
  'Keys',
  '  1 / 2 / 3        executions / catalog / worker pools',
  '  ↑ ↓  (k j)       move;  PgUp PgDn scroll',
  '  enter            open (execution, step) or run (catalog)',
  '  esc / backspace  back',
  '  c                cancel the selected execution',
  '  r                rerun the selected execution (a failed one resumes)',
  '  s                executions: cycle the status filter',
  '  /                executions: filter by path prefix (enter ends)',
  '  ?                this help (any key closes it)',
  '  q                quit',
];
