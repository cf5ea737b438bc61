import { isRunning, type ExecutionState } from '../../engine/index.js';
import { scrubSecrets, type wire } from '../../shared/index.js';
import type { EventRecord, ExecutionRecord } from '../../store/index.js';

function iso(ms: number | undefined): string | null {
  return ms === undefined ? null : new Date(ms).toISOString();
}

function humanDuration(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m}m ${Math.round(seconds % 60)}s`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}

/** The step most recently entered that is still running, else the last that finished. */
function currentStep(state: ExecutionState): string | null {
  let current: { name: string; at: number } | undefined;
  for (const [name, s] of state.steps) {
    if (isRunning(s.status) && (current === undefined || (s.enteredAt ?? 0) >= current.at)) {
      current = { name, at: s.enteredAt ?? 0 };
    }
  }
  return current?.name ?? state.executed[state.executed.length - 1] ?? null;
}

/**
 * `GET /api/executions/{id}/status`: the union of the Rust shape (`progress`, `is_cancelled`)
 * and the Python shape the CLI renders (`completed_steps`, `failed`, `completed`, times).
 * Status comes only from terminal events.
 */
export function statusView(state: ExecutionState): wire.StatusView {
  const completed: string[] = [];
  const failed: string[] = [];
  let running = 0;
  for (const [name, s] of state.steps) {
    if (s.status === 'completed') completed.push(name);
    else if (s.status === 'failed') failed.push(name);
    else if (isRunning(s.status)) running++;
  }
  const end = state.completedAt;
  const duration = state.startedAt !== undefined ? ((end ?? Date.now()) - state.startedAt) / 1000 : 0;
  return {
    execution_id: state.executionId,
    status: state.status,
    current_step: currentStep(state),
    progress: {
      total_steps: state.playbook.workflow.length,
      completed_steps: completed.length,
      running_steps: running,
      failed_steps: failed.length,
    },
    is_cancelled: state.status === 'CANCELLED',
    completed_steps: completed,
    failed_steps: failed,
    failed: state.status === 'FAILED',
    completed: state.status !== 'RUNNING',
    completion_inferred: false,
    error: state.error ?? null,
    start_time: iso(state.startedAt),
    end_time: iso(end),
    started_at: iso(state.startedAt),
    completed_at: iso(end),
    duration_seconds: duration,
    duration_human: humanDuration(duration),
    path: state.path,
    catalog_id: state.catalogId ?? null,
    parent_execution_id: state.parentExecutionId ?? null,
  };
}

/**
 * An event as the read routes show it: values under secret-looking keys (`password`, `token`,
 * `api_key`...) and URL passwords are masked here, for display only; the stored event keeps them
 * (a restart replays it, and later steps must read what earlier ones returned).
 */
export function eventView(e: EventRecord): wire.EventView {
  return scrubSecrets<wire.EventView>({
    event_id: e.eventId,
    execution_id: e.executionId,
    event_type: e.eventType,
    node_name: e.nodeName,
    node_type: e.nodeType,
    status: e.status,
    created_at: e.createdAt,
    parent_event_id: e.parentEventId,
    context: e.context,
    result: e.result,
    meta: e.meta,
    error: e.error,
    worker_id: e.workerId,
  });
}

export function executionSummary(e: ExecutionRecord): wire.ExecutionSummary {
  return {
    execution_id: e.executionId,
    catalog_id: e.catalogId,
    path: e.path,
    status: e.status,
    started_at: e.startTime,
    completed_at: e.endTime,
    parent_execution_id: e.parentExecutionId,
    event_count: e.eventCount,
    error: e.error,
  };
}

/** Step data as later templates see it, for `result` views and sub-playbook results. */
export function stepResults(state: ExecutionState): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, s] of state.steps) if (s.status === 'completed') out[name] = s.data ?? null;
  return out;
}

export function finalResult(state: ExecutionState): unknown {
  const end = state.steps.get('end');
  if (end?.status === 'completed') return end.data ?? null;
  const last = state.lastCompleted ? state.steps.get(state.lastCompleted) : undefined;
  return last?.data ?? null;
}
