import { canonicalEventType, derivedStatus, type ExecutionEvent } from '../../engine/index.js';
import { isPlainObject, NoetlError } from '../../shared/index.js';

/** One event as a worker posts it to `POST /api/events` (contract 3.2). */
export interface WireEvent {
  readonly execution_id: string | number;
  readonly step?: string;
  readonly event_type?: string;
  readonly name?: string;
  readonly payload?: Record<string, unknown>;
  readonly context?: Record<string, unknown>;
  readonly status?: string;
  readonly event_id?: string | number;
  readonly created_at?: string;
  readonly worker_id?: string;
  readonly meta?: Record<string, unknown>;
  readonly actionable?: boolean;
  readonly informative?: boolean;
}

const ID_RE = /^\d{1,20}$/;

export function idString(value: unknown, field: string): string {
  const text =
    typeof value === 'number'
      ? Number.isSafeInteger(value)
        ? String(value)
        : ''
      : typeof value === 'string'
        ? value
        : '';
  if (!ID_RE.test(text)) {
    throw new NoetlError(
      'BAD_REQUEST',
      `${field} must be a decimal id (string or integer), got ${JSON.stringify(value)}`,
    );
  }
  return text;
}

/**
 * Normalises a posted event (contract 3.2): `name` is an alias of `event_type`, `context` of
 * `payload`; `result = {status, context: payload}`; `meta` gains `command_id`, `worker_id`,
 * `actionable`, `informative`. The server assigns the event id (so the log's order is the
 * server's); the client's id, or `<command_id>:<type>`, is the idempotency key.
 */
export function normalizeWireEvent(
  wire: WireEvent,
  eventId: string,
  now: string,
): { event: ExecutionEvent; idempotencyKey?: string; rawType: string } {
  const rawType = wire.event_type ?? wire.name;
  if (typeof rawType !== 'string' || rawType === '') {
    throw new NoetlError('BAD_REQUEST', 'event_type (or name) is required');
  }
  const type = canonicalEventType(rawType);
  if (!type) throw new NoetlError('BAD_REQUEST', `unknown event_type '${rawType}'`);
  if (type === 'playbook_started' || type === 'command.issued' || type === 'command.claimed') {
    throw new NoetlError('BAD_REQUEST', `event_type '${rawType}' is written by the server, not posted`);
  }
  const executionId = idString(wire.execution_id, 'execution_id');
  const payload = wire.payload ?? wire.context ?? {};
  if (!isPlainObject(payload)) throw new NoetlError('BAD_REQUEST', 'payload must be an object');
  const status = wire.status ?? derivedStatus(type);
  const commandId = typeof payload['command_id'] === 'string' ? payload['command_id'] : undefined;
  const meta: Record<string, unknown> = {
    ...(wire.meta ?? {}),
    ...(commandId !== undefined ? { command_id: commandId } : {}),
    ...(wire.worker_id !== undefined ? { worker_id: wire.worker_id } : {}),
    ...(wire.actionable !== undefined ? { actionable: wire.actionable } : {}),
    ...(wire.informative !== undefined ? { informative: wire.informative } : {}),
  };
  const error = payload['error'];
  const errorText =
    typeof error === 'string'
      ? error
      : isPlainObject(error) && typeof error['message'] === 'string'
        ? error['message']
        : undefined;
  const event: ExecutionEvent = {
    execution_id: executionId,
    event_id: eventId,
    event_type: type,
    node_name: wire.step ?? 'playbook',
    status,
    created_at: now,
    result: { status, context: payload },
    meta,
    ...(wire.worker_id !== undefined ? { worker_id: wire.worker_id } : {}),
    ...(errorText !== undefined ? { error: errorText } : {}),
  };
  const callIndex = typeof payload['call_index'] === 'number' ? `:${payload['call_index']}` : '';
  const idempotencyKey =
    wire.event_id !== undefined
      ? `client:${idString(wire.event_id, 'event_id')}`
      : commandId !== undefined
        ? `${commandId}:${type}${callIndex}`
        : undefined;
  return { event, rawType, ...(idempotencyKey !== undefined ? { idempotencyKey } : {}) };
}
