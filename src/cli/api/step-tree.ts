import type { EventView } from '../../client/index.js';
import { duration } from '../output.js';

/** One step of `noetl status`'s step tree. */
export interface StepRow {
  readonly step: string;
  status: 'RUNNING' | 'COMPLETED' | 'FAILED' | 'SKIPPED';
  started_at?: string;
  ended_at?: string;
  duration_ms?: number;
  /** Attempts the step's last finished command used (retries by policy rules). */
  attempts?: number;
  /** Loop progress: iterations finished (completed or failed) of `total`. */
  loop?: { done: number; failed: number; total: number };
}

function payload(e: EventView): Record<string, unknown> {
  const ctx = (e.result as { context?: unknown } | null | undefined)?.context;
  return ctx !== null && typeof ctx === 'object' && !Array.isArray(ctx)
    ? (ctx as Record<string, unknown>)
    : {};
}

function attemptsOf(e: EventView): number | undefined {
  const result = payload(e)['result'];
  const ctx = (result as { context?: { attempts?: unknown } } | null | undefined)?.context;
  return typeof ctx?.attempts === 'number' ? ctx.attempts : undefined;
}

/**
 * Folds an execution's events (oldest first) into one row per step, in the order steps were
 * entered: status, duration (server timestamps), attempts, loop progress.
 */
export function stepTree(events: readonly EventView[]): StepRow[] {
  const rows = new Map<string, StepRow>();
  // cursor loops (commands with `meta.cursor`): their commands do not end them; `step.exit` does
  const cursors = new Set<string>();
  const row = (name: string): StepRow => {
    let r = rows.get(name);
    if (!r) {
      r = { step: name, status: 'RUNNING' };
      rows.set(name, r);
    }
    return r;
  };
  const end = (r: StepRow, e: EventView, status: StepRow['status']): void => {
    r.status = status;
    r.ended_at = e.created_at;
    if (r.started_at !== undefined) {
      const ms = Date.parse(e.created_at) - Date.parse(r.started_at);
      if (Number.isFinite(ms)) r.duration_ms = Math.max(0, ms);
    }
  };
  for (const e of events) {
    if (e.node_name === 'playbook' || e.node_name === '__orchestrate__' || e.node_name === '') continue;
    const name = e.node_name;
    switch (e.event_type) {
      case 'step.enter': {
        rows.delete(name); // a workflow loop re-entering a step: the latest run counts
        cursors.delete(name);
        const r = row(name);
        r.started_at = e.created_at;
        break;
      }
      case 'step.skipped':
        row(name).status = 'SKIPPED';
        break;
      case 'command.issued': {
        const total = e.meta?.['iteration_total'];
        if (typeof total === 'number') row(name).loop ??= { done: 0, failed: 0, total };
        if (e.meta?.['cursor'] !== undefined) cursors.add(name);
        break;
      }
      case 'call.done':
      case 'call.error': {
        const attempts = attemptsOf(e);
        if (attempts !== undefined) row(name).attempts = attempts;
        break;
      }
      case 'command.completed':
      case 'command.failed': {
        const r = row(name);
        if (cursors.has(name)) {
          if (e.event_type === 'command.failed') end(r, e, 'FAILED');
        } else if (r.loop) {
          r.loop.done += 1;
          if (e.event_type === 'command.failed') r.loop.failed += 1;
          if (r.loop.done >= r.loop.total) end(r, e, r.loop.failed > 0 ? 'FAILED' : 'COMPLETED');
        } else {
          end(r, e, e.event_type === 'command.failed' ? 'FAILED' : 'COMPLETED');
        }
        break;
      }
      case 'step.exit': {
        const r = row(name);
        end(r, e, r.loop && r.loop.failed > 0 ? 'FAILED' : 'COMPLETED');
        break;
      }
      default:
        break;
    }
  }
  return [...rows.values()];
}

/** The step tree as `noetl status` prints it. */
export function formatStepTree(rows: readonly StepRow[]): string[] {
  const mark = { RUNNING: '…', COMPLETED: '✓', FAILED: '✗', SKIPPED: '-' } as const;
  const width = Math.max(4, ...rows.map((r) => r.step.length));
  return rows.map((r) => {
    const took = r.duration_ms !== undefined ? duration(r.duration_ms) : '';
    const tries = r.attempts !== undefined && r.attempts > 1 ? `  attempts ${r.attempts}` : '';
    const loop = r.loop
      ? `  [${r.loop.done}/${r.loop.total}${r.loop.failed ? `, ${r.loop.failed} failed` : ''}]`
      : '';
    return `    ${mark[r.status]} ${r.step.padEnd(width)}  ${r.status.padEnd(9)} ${took.padStart(8)}${loop}${tries}`;
  });
}
