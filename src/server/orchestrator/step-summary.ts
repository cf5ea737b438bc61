import { isRunning, type ExecutionState, type StepStatus } from '../../engine/index.js';
import { scrubSecrets } from '../../shared/index.js';

/** A step as the web UI draws it: the UI's status words, attempts, loop progress and times. */
export interface StepSummary {
  readonly name: string;
  readonly status: 'pending' | 'running' | 'completed' | 'failed' | 'skipped' | 'cancelled';
  readonly entered_at: string | null;
  readonly completed_at: string | null;
  /** Times the step was entered (back-edges re-enter). */
  readonly runs: number;
  /** Most commands issued for one iteration of the step (retries = attempts - 1). */
  readonly attempts: number;
  /** Loop steps: iterations the current run will do, and how many have ended. */
  readonly loop: { readonly expected: number; readonly done: number } | null;
  readonly error: string | null;
}

function iso(ms: number | undefined): string | null {
  return ms === undefined ? null : new Date(ms).toISOString();
}

function uiStatus(status: StepStatus, cancelled: boolean): StepSummary['status'] {
  if (status === 'completed' || status === 'failed' || status === 'skipped') return status;
  if (cancelled) return 'cancelled';
  return isRunning(status) ? 'running' : 'pending';
}

/**
 * Every step of an execution folded from the engine's state (the orchestrator's cache of live
 * executions), so the web UI draws a deep link from one request instead of reading and folding
 * the whole event log; it then follows the event stream from `last_event_id`.
 */
export function stepSummaries(state: ExecutionState): StepSummary[] {
  const attempts = new Map<string, Map<number, number>>();
  for (const c of state.commands.values()) {
    let perIteration = attempts.get(c.step);
    if (!perIteration) attempts.set(c.step, (perIteration = new Map<number, number>()));
    const key = c.iterationIndex ?? -1;
    perIteration.set(key, (perIteration.get(key) ?? 0) + 1);
  }
  const cancelled = state.status === 'CANCELLED';
  return [...state.steps.values()].map((s) => {
    const counts = attempts.get(s.name);
    return {
      name: s.name,
      status: uiStatus(s.status, cancelled),
      entered_at: iso(s.enteredAt),
      completed_at: iso(s.completedAt),
      runs: s.runs,
      attempts: counts ? Math.max(...counts.values()) : 0,
      loop: s.loop ? { expected: s.loop.items.length, done: s.loop.completed + s.loop.failed } : null,
      // Masked as the event routes mask (a URL password in a driver's message, say).
      error: s.error ? String(scrubSecrets({ m: s.error.message }).m) : null,
    };
  });
}
