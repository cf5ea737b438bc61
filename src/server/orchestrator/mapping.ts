import type { CommandNotification } from '../../bus/index.js';
import { canonicalEventType, type Command, type ExecutionEvent } from '../../engine/index.js';
import type { JsonObject, JsonValue } from '../../shared/index.js';
import type { ClaimResult, CommandInput, EventInput, EventRecord } from '../../store/index.js';

function asObject(value: unknown): JsonObject | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as JsonObject)
    : undefined;
}

/**
 * An engine event as a store row, as it is: the stored log is the state a restart replays, so
 * nothing in it is masked by key name (`password`, `token`...; that is a display rule of the read
 * routes, see views.ts `eventView`). Known secret values were redacted by the worker that
 * resolved them, before posting.
 */
export function toEventInput(event: ExecutionEvent, idempotencyKey?: string): EventInput {
  const context = event.context === undefined ? undefined : asObject(event.context);
  const result = event.result === undefined ? undefined : asObject(event.result);
  const meta = event.meta === undefined ? undefined : asObject(event.meta);
  return {
    executionId: event.execution_id,
    eventId: event.event_id,
    eventType: event.event_type,
    nodeName: event.node_name,
    nodeId: event.node_name,
    status: event.status,
    createdAt: event.created_at,
    ...(event.node_type !== undefined ? { nodeType: event.node_type } : {}),
    ...(event.catalog_id !== undefined ? { catalogId: event.catalog_id } : {}),
    ...(event.parent_event_id !== undefined ? { parentEventId: event.parent_event_id } : {}),
    ...(event.parent_execution_id !== undefined ? { parentExecutionId: event.parent_execution_id } : {}),
    ...(context !== undefined ? { context } : {}),
    ...(result !== undefined ? { result } : {}),
    ...(meta !== undefined ? { meta } : {}),
    ...(event.error !== undefined ? { error: event.error } : {}),
    ...(event.worker_id !== undefined ? { workerId: event.worker_id } : {}),
    ...(event.duration !== undefined ? { duration: event.duration } : {}),
    ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
  };
}

/** A stored row as an engine event (unknown event types are dropped by the caller). */
export function fromEventRecord(row: EventRecord): ExecutionEvent | undefined {
  const type = canonicalEventType(row.eventType);
  if (!type) return undefined;
  const context = asObject(row.context);
  const result = asObject(row.result);
  const meta = asObject(row.meta);
  return {
    execution_id: row.executionId,
    event_id: row.eventId,
    event_type: type,
    node_name: row.nodeName ?? 'playbook',
    status: row.status ?? '',
    created_at: row.createdAt,
    ...(row.nodeType !== null ? { node_type: row.nodeType } : {}),
    ...(row.catalogId !== null ? { catalog_id: row.catalogId } : {}),
    ...(row.parentEventId !== null ? { parent_event_id: row.parentEventId } : {}),
    ...(row.parentExecutionId !== null ? { parent_execution_id: row.parentExecutionId } : {}),
    ...(context ? { context } : {}),
    ...(result && typeof result['status'] === 'string'
      ? {
          result: {
            status: result['status'],
            ...('context' in result ? { context: result['context'] } : {}),
          },
        }
      : {}),
    ...(meta ? { meta } : {}),
    ...(row.error !== null ? { error: row.error } : {}),
    ...(row.workerId !== null ? { worker_id: row.workerId } : {}),
    ...(row.duration !== null ? { duration: row.duration } : {}),
  };
}

/**
 * The `command.claimed` event a claim wrote (queries/commands.ts `claim`), as reading it back
 * would give it: its time is the command's `claimed_at` (both are the claim's `now()`).
 */
export function claimEventOf(claim: ClaimResult, eventId: string): ExecutionEvent | undefined {
  const c = claim.command;
  const by = { command_id: c.commandKey, worker_id: c.workerId };
  return fromEventRecord({
    executionId: c.executionId,
    eventId,
    eventType: 'command.claimed',
    catalogId: c.catalogId,
    parentEventId: c.eventId,
    parentExecutionId: c.parentExecutionId,
    createdAt: c.claimedAt ?? c.updatedAt,
    nodeId: c.stepName,
    nodeName: c.stepName,
    nodeType: c.toolKind,
    status: 'RUNNING',
    duration: null,
    context: null,
    result: { status: 'RUNNING', context: by },
    meta: { ...by, actionable: false },
    error: null,
    workerId: c.workerId,
    commandKey: c.commandKey,
    idempotencyKey: null,
    currentIndex: null,
  });
}

/** The command row written with a `command.issued` event. */
export function toCommandInput(command: Command): CommandInput {
  return {
    commandId: command.event_id,
    commandKey: command.command_id,
    executionId: command.execution_id,
    stepName: command.step,
    toolKind: command.tool_kind,
    context: {
      tool_config: command.tool as unknown as JsonValue,
      args: command.args as JsonObject,
      render_context: command.render_context as JsonObject,
      ...(command.keychain ? { keychain: command.keychain as unknown as JsonValue } : {}),
    },
    ...(command.catalog_id !== undefined ? { catalogId: command.catalog_id } : {}),
    ...(command.parent_execution_id !== undefined ? { parentExecutionId: command.parent_execution_id } : {}),
    ...(command.execution_pool !== undefined ? { executionPool: command.execution_pool } : {}),
    ...(command.iteration_index !== undefined ? { iterIndex: command.iteration_index } : {}),
  };
}

export function notificationFor(
  command: { execution_id: string; event_id: string; command_id: string; step: string },
  serverUrl: string,
  pool: string,
  trace?: JsonObject,
): CommandNotification {
  return {
    execution_id: command.execution_id,
    event_id: command.event_id,
    command_id: command.command_id,
    step: command.step,
    server_url: serverUrl,
    execution_pool: pool,
    ...(trace !== undefined ? { trace } : {}),
  };
}
