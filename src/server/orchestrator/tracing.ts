import {
  TERMINAL_EVENT_TYPES,
  type Command,
  type ExecutionEvent,
  type ExecutionState,
} from '../../engine/index.js';
import {
  executionSpanOf,
  formatTraceparent,
  stepSpanOf,
  traceparentIn,
  type FinishedSpan,
  type JsonObject,
  type SpanRef,
} from '../../shared/index.js';

/**
 * Traces of executions on the server (docs/observability.md, "Traces"). The ids come from the
 * execution (shared/trace-context.ts), so the spans need no state of their own: a step's span
 * is recorded by the replica that commits the step's end, under the id the worker already used
 * as the parent of its tool span, and the execution's span by the replica that ends it.
 */

/** The `trace` a command's notification carries: the span of its step's current run. */
export function commandTrace(state: ExecutionState, command: Command): JsonObject {
  return stepTrace(state, command.execution_id, command.step);
}

/** `{traceparent}` of the current run of `step`. */
export function stepTrace(state: ExecutionState, executionId: string, step: string): JsonObject {
  const run = state.steps.get(step)?.runs ?? 1;
  return { traceparent: formatTraceparent(stepSpanOf(executionId, step, run)) };
}

function timeOf(event: ExecutionEvent): number {
  const t = Date.parse(event.created_at);
  return Number.isNaN(t) ? Date.now() : t;
}

/**
 * The spans that committed `events` end, read from the state they were folded into: a step
 * whose completion (or failure) is one of them, and the execution when one is its end.
 */
export function endedSpans(state: ExecutionState, events: readonly ExecutionEvent[]): FinishedSpan[] {
  const spans: FinishedSpan[] = [];
  const root = executionSpanOf(state.executionId);
  const execution = { 'noetl.execution_id': state.executionId, 'noetl.playbook.path': state.path };
  for (const event of events) {
    if (TERMINAL_EVENT_TYPES.has(event.event_type)) {
      spans.push({
        name: `execution ${state.path}`,
        ref: root,
        startMs: state.startedAt ?? timeOf(event),
        endMs: timeOf(event),
        attributes: { ...execution, 'noetl.status': state.status, 'noetl.steps_entered': state.stepsEntered },
        ...(state.status === 'FAILED' ? { error: state.error ?? 'execution failed' } : {}),
      });
      continue;
    }
    const step = state.steps.get(event.node_name);
    if (!step || step.completionEventId !== event.event_id) continue;
    spans.push({
      name: `step ${step.name}`,
      ref: stepSpanOf(state.executionId, step.name, step.runs),
      parent: root,
      startMs: step.enteredAt ?? timeOf(event),
      endMs: step.completedAt ?? timeOf(event),
      attributes: {
        ...execution,
        'noetl.step': step.name,
        'noetl.step.run': step.runs,
        'noetl.step.status': step.status,
        ...(step.loop ? { 'noetl.loop.items': step.loop.items.length } : {}),
      },
      ...(step.status === 'failed' ? { error: step.error?.message ?? 'step failed' } : {}),
    });
  }
  return spans;
}

/** The tool span a worker names in the events it posts (`meta.trace.traceparent`), if any. */
export function postedTraceparent(wire: readonly { readonly meta?: unknown }[]): SpanRef | undefined {
  for (let i = wire.length - 1; i >= 0; i--) {
    const meta = wire[i]?.meta;
    if (meta !== null && typeof meta === 'object' && !Array.isArray(meta)) {
      const ref = traceparentIn((meta as Record<string, unknown>)['trace']);
      if (ref) return ref;
    }
  }
  return undefined;
}
