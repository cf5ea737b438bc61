/** Event names and shapes of contract section 3 (exact strings). */

export const EVENT_TYPES = [
  'playbook_started',
  'step.enter',
  'command.issued',
  'command.claimed',
  'command.started',
  'call.done',
  'call.error',
  'command.completed',
  'command.failed',
  'command.heartbeat',
  'step.exit',
  'step.skipped',
  'step.waiting',
  'ctx.updated',
  'playbook.completed',
  'playbook.failed',
  'playbook_cancelled',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

/** Aliases NoETL writers use (Python names), mapped to the canonical names on ingest. */
const ALIASES: Readonly<Record<string, EventType>> = {
  'playbook.initialized': 'playbook_started',
  'workflow.initialized': 'playbook_started',
  'playbook.started': 'playbook_started',
  step_enter: 'step.enter',
  step_started: 'step.enter',
  action_started: 'command.started',
  action_done: 'call.done',
  action_completed: 'command.completed',
  step_completed: 'command.completed',
  action_failed: 'command.failed',
  step_failed: 'command.failed',
  step_skipped: 'step.skipped',
  playbook_completed: 'playbook.completed',
  playbook_failed: 'playbook.failed',
  'playbook.cancelled': 'playbook_cancelled',
  'execution.cancelled': 'playbook_cancelled',
  iterator_completed: 'step.exit',
};

const CANONICAL = new Set<string>(EVENT_TYPES);

/** The canonical event type for a name, or undefined when it is not one the engine knows. */
export function canonicalEventType(name: string): EventType | undefined {
  if (CANONICAL.has(name)) return name as EventType;
  return ALIASES[name];
}

export const TERMINAL_EVENT_TYPES: ReadonlySet<EventType> = new Set([
  'playbook.completed',
  'playbook.failed',
  'playbook_cancelled',
]);

/** Events after which the engine decides what runs next (contract 3.5). */
export const TRIGGER_EVENT_TYPES: ReadonlySet<EventType> = new Set([
  'command.completed',
  'command.failed',
  'step.exit',
]);

export interface EventResult {
  readonly status: string;
  readonly context?: unknown;
  readonly reference?: Readonly<Record<string, unknown>>;
}

/** One event of an execution's log (the `noetl.event` row, ids as decimal strings). */
export interface ExecutionEvent {
  readonly execution_id: string;
  readonly event_id: string;
  readonly event_type: EventType;
  /** Step name, or `playbook` for execution-level events. */
  readonly node_name: string;
  readonly node_type?: string;
  readonly status: string;
  readonly created_at: string;
  readonly parent_event_id?: string;
  readonly parent_execution_id?: string;
  readonly catalog_id?: string;
  readonly context?: Readonly<Record<string, unknown>>;
  readonly result?: EventResult;
  readonly meta?: Readonly<Record<string, unknown>>;
  readonly error?: string;
  readonly worker_id?: string;
  readonly duration?: number;
}

/** The payload a worker sent with an event (`result.context`, else `context`). */
export function payloadOf(event: ExecutionEvent): Readonly<Record<string, unknown>> {
  const fromResult = event.result?.context;
  if (fromResult !== null && typeof fromResult === 'object' && !Array.isArray(fromResult)) {
    return fromResult as Readonly<Record<string, unknown>>;
  }
  return event.context ?? {};
}

/** The string command id an event refers to (`meta.command_id`, else the payload's). */
export function commandIdOf(event: ExecutionEvent): string | undefined {
  const fromMeta = event.meta?.['command_id'];
  if (typeof fromMeta === 'string') return fromMeta;
  const fromPayload = payloadOf(event)['command_id'];
  return typeof fromPayload === 'string' ? fromPayload : undefined;
}

function statusOf(eventType: string): string {
  if (/done|exit|completed/.test(eventType)) return 'COMPLETED';
  if (/error|failed/.test(eventType)) return 'FAILED';
  if (/cancelled/.test(eventType)) return 'CANCELLED';
  if (/skipped/.test(eventType)) return 'SKIPPED';
  if (eventType === 'command.issued' || eventType === 'step.waiting') return 'PENDING';
  return 'RUNNING';
}

/** Statuses of the event types seen (a few dozen; four regular expressions per event otherwise). */
const statusCache = new Map<string, string>();

/** Status stored on an event row when a writer did not give one (contract 3.2). */
export function derivedStatus(eventType: string): string {
  let status = statusCache.get(eventType);
  if (status === undefined) {
    status = statusOf(eventType);
    if (statusCache.size < 256) statusCache.set(eventType, status);
  }
  return status;
}

/** The fields a worker (or the local runner) reports about one command. */
export interface CommandEventInput {
  readonly executionId: string;
  readonly step: string;
  readonly commandId: string;
  readonly eventId: string;
  readonly createdAt: string;
  readonly payload: Readonly<Record<string, unknown>>;
  readonly workerId?: string;
  readonly error?: string;
  readonly catalogId?: string;
  readonly durationMs?: number;
}

/**
 * Builds a worker-reported event as the server stores it (contract 3.2 normalisation):
 * `result = {status, context: payload}`, `meta.command_id`.
 */
export function commandEvent(
  eventType: 'command.started' | 'call.done' | 'call.error' | 'command.completed' | 'command.failed',
  input: CommandEventInput,
): ExecutionEvent {
  const status = derivedStatus(eventType);
  return {
    execution_id: input.executionId,
    event_id: input.eventId,
    event_type: eventType,
    node_name: input.step,
    status,
    created_at: input.createdAt,
    result: { status, context: input.payload },
    meta: {
      command_id: input.commandId,
      ...(input.workerId !== undefined ? { worker_id: input.workerId } : {}),
    },
    ...(input.catalogId !== undefined ? { catalog_id: input.catalogId } : {}),
    ...(input.workerId !== undefined ? { worker_id: input.workerId } : {}),
    ...(input.error !== undefined ? { error: input.error } : {}),
    ...(input.durationMs !== undefined ? { duration: input.durationMs } : {}),
  };
}
