import { compareIds, NoetlError, type JsonValue } from '../../shared/index.js';
import type { AppendBatch, AppendedEvent, AppendResult, ClaimResult, CommandClaim } from '../ports.js';
import type { CommandInput, CommandRecord, EventInput, ExecutionInit } from '../records.js';
import { text, time } from '../rows.js';
import type { DbResult } from '../db.js';
import type { RepoContext } from './context.js';
import { commandKeyOf, commandStatusOf, executionStatusOf } from './projection.js';

/**
 * Writes a batch of events and command rows and folds them into the projections in one
 * statement (queries/events.ts `append`): atomic on its own, one round trip whatever the size.
 * Only a repeated event costs one more query, to find the event it repeats.
 */
export async function writeBatch(ctx: RepoContext, batch: AppendBatch): Promise<AppendResult> {
  const commands = batch.commands ?? [];
  const inits = [...(batch.execution ? [batch.execution] : []), ...(batch.executions ?? [])];
  if (batch.events.length === 0 && commands.length === 0 && inits.length === 0) {
    return { events: [], commandsInserted: 0 };
  }
  const claims = claimsOf(commands, batch.claims ?? []);
  const fresh =
    batch.fresh === true && inits.length === 0 ? freshParams(batch.events, commands, claims) : undefined;
  if (fresh) return writeFresh(ctx, batch, claims, fresh);
  const params = [
    JSON.stringify([...batch.events, ...claims.map((c) => c.event)].map(eventRow)),
    inits.length > 0 ? JSON.stringify(inits.map(initRow)) : null,
    JSON.stringify(
      commands.map((c) =>
        commandRow(
          c,
          claims.find((k) => k.command === c),
        ),
      ),
    ),
  ];
  const committing = batch.last === true ? commitWith(ctx, batch) : undefined;
  const result = await (committing
    ? committing(ctx.sql.events.append, params)
    : ctx.db.query(ctx.sql.events.append, params));
  const row = result.rows[0] ?? {};
  const inserted = new Set(positions(row['inserted']));
  const claimed = claims.length > 0 ? claimedResults(row, claims) : undefined;
  const events: AppendedEvent[] = [];
  for (const [index, event] of batch.events.entries()) {
    if (inserted.has(index + 1)) {
      events.push({ eventId: event.eventId, inserted: true });
      continue;
    }
    if (committing) {
      // Rolled back by the check that went with it; the caller fails the transaction.
      events.push({ eventId: event.eventId, inserted: false });
      continue;
    }
    // What the event repeats was there before it: events the batch wrote after it are not.
    const later = batch.events
      .filter((e, i) => i > index && inserted.has(i + 1) && e.executionId === event.executionId)
      .map((e) => e.eventId);
    events.push({ eventId: await findDuplicate(ctx, event, later), inserted: false });
  }
  return { events, commandsInserted: Number(row['commands'] ?? 0), ...(claimed ? { claimed } : {}) };
}

/**
 * A batch whose events must all be new, folded here and written by the lean statement
 * (queries/events.ts `appendFresh`). When the statement refuses it (an event or command stored
 * already), nothing was written and every event reports `inserted: false`: the caller fails the
 * transaction, which the refusal has made unusable anyway.
 */
async function writeFresh(
  ctx: RepoContext,
  batch: AppendBatch,
  claims: readonly BatchClaim[],
  params: readonly unknown[],
): Promise<AppendResult> {
  const queryCommitting = batch.last === true ? ctx.db.queryCommitting?.bind(ctx.db) : undefined;
  let row: Record<string, unknown>;
  try {
    // Sent with COMMIT when last: the statement is its own check (no guard statement).
    const result = await (queryCommitting
      ? queryCommitting(ctx.sql.events.appendFresh, params, [])
      : ctx.db.query(ctx.sql.events.appendFresh, params));
    row = result.rows[0] ?? {};
  } catch (error) {
    if (!(error instanceof Error) || !error.message.includes(FRESH_REFUSED)) throw error;
    return {
      events: batch.events.map((e) => ({ eventId: e.eventId, inserted: false })),
      commandsInserted: 0,
    };
  }
  return {
    events: batch.events.map((e) => ({ eventId: e.eventId, inserted: true })),
    commandsInserted: batch.commands?.length ?? 0,
    ...(claims.length > 0 ? { claimed: claimedResults(row, claims) } : {}),
  };
}

/** What the lean statement's refusal says (queries/events.ts `appendFresh`). */
const FRESH_REFUSED = 'noetl: fresh append refused';

/** How a batch moves one command it is about, folded as `append` folds it. */
interface CommandMove {
  command_key: string;
  last_status?: string;
  worker_id?: string;
  started_at?: string;
  finish_status?: string;
  finish_at?: string;
  finish_error?: string;
  latest_event_id: string;
}

/**
 * The lean statement's parameters, or undefined when the batch needs the general one: events of
 * more than one execution, a terminal event (which cancels the execution's commands), events
 * about more than one stored command, or none at all.
 */
function freshParams(
  batchEvents: readonly EventInput[],
  commands: readonly CommandInput[],
  claims: readonly BatchClaim[],
): unknown[] | undefined {
  const events = [...batchEvents, ...claims.map((c) => c.event)];
  const first = events[0];
  if (first === undefined) return undefined;
  let catalogId: string | undefined;
  let parentExecutionId: string | undefined;
  let newest = first;
  const moves = new Map<string, CommandMove>();
  for (const e of events) {
    if (e.executionId !== first.executionId) return undefined;
    if (executionStatusOf(e.eventType) !== undefined) return undefined;
    catalogId ??= e.catalogId;
    parentExecutionId ??= e.parentExecutionId;
    if (compareIds(e.eventId, newest.eventId) > 0) newest = e;
    const key = commandKeyOf(e);
    if (key === undefined) continue;
    const status = commandStatusOf(e.eventType);
    let move = moves.get(key);
    if (move === undefined) moves.set(key, (move = { command_key: key, latest_event_id: e.eventId }));
    if (compareIds(e.eventId, move.latest_event_id) > 0) move.latest_event_id = e.eventId;
    if (move.worker_id === undefined && e.workerId !== undefined) move.worker_id = e.workerId;
    if (status === undefined) continue;
    move.last_status = status;
    // An event without its time gets the transaction's: 'now' is PostgreSQL's input for it.
    if (status === 'RUNNING') move.started_at ??= e.createdAt ?? 'now';
    if ((status === 'COMPLETED' || status === 'FAILED') && move.finish_status === undefined) {
      move.finish_status = status;
      move.finish_at = e.createdAt ?? 'now';
      if (e.error !== undefined) move.finish_error = e.error;
    }
  }
  // Commands the batch inserts are not stored yet: their events move nothing (as in `append`).
  for (const c of commands) moves.delete(c.commandKey);
  // One command moved by key, or the general statement (queries/events.ts `appendFresh`).
  if (moves.size > 1) return undefined;
  return [
    JSON.stringify(events.map(eventRow)),
    first.executionId,
    events.length,
    catalogId ?? null,
    parentExecutionId ?? null,
    newest.eventId,
    newest.eventType,
    newest.nodeName ?? null,
    JSON.stringify([...moves.values()]),
    JSON.stringify(
      commands.map((c) => {
        const claim = claims.find((k) => k.command === c);
        const latest =
          claim && compareIds(claim.event.eventId, c.commandId) > 0 ? claim.event.eventId : c.commandId;
        return { ...commandRow(c, claim), status: claim ? 'CLAIMED' : 'PENDING', latest_event_id: latest };
      }),
    ),
    commands.length,
  ];
}

/**
 * The append as its transaction's last statement, COMMIT sent with it (`AppendBatch.last`), when
 * the driver can, with the check that all its events are new; undefined otherwise.
 */
function commitWith(
  ctx: RepoContext,
  batch: AppendBatch,
): ((text: string, params: readonly unknown[]) => Promise<DbResult>) | undefined {
  const queryCommitting = ctx.db.queryCommitting?.bind(ctx.db);
  const executionId = batch.events[0]?.executionId;
  if (!queryCommitting || executionId === undefined) return undefined;
  if (batch.events.some((e) => e.executionId !== executionId)) return undefined;
  const ids = batch.events.map((e) => e.eventId);
  return (text, params) =>
    queryCommitting(text, params, [[ctx.sql.events.appendedAll, [executionId, ids, ids.length]]]);
}

/** A claim of the batch: its command, the worker and the `command.claimed` event it writes. */
interface BatchClaim {
  readonly command: CommandInput;
  readonly workerId: string;
  readonly event: EventInput;
}

function claimsOf(commands: readonly CommandInput[], claims: readonly CommandClaim[]): BatchClaim[] {
  return claims.map(({ commandId, workerId, eventId }) => {
    const command = commands.find((c) => c.commandId === commandId);
    if (!command)
      throw new NoetlError('INTERNAL', `claim of command ${commandId}, which the batch does not write`);
    return { command, workerId, event: claimEvent(command, workerId, eventId) };
  });
}

/** The `command.claimed` event as the claim statement (queries/commands.ts `claim`) writes it. */
function claimEvent(command: CommandInput, workerId: string, eventId: string): EventInput {
  const by = { command_id: command.commandKey, worker_id: workerId };
  return {
    executionId: command.executionId,
    eventId,
    eventType: 'command.claimed',
    ...(command.catalogId !== undefined ? { catalogId: command.catalogId } : {}),
    parentEventId: command.commandId,
    ...(command.parentExecutionId !== undefined ? { parentExecutionId: command.parentExecutionId } : {}),
    nodeId: command.stepName,
    nodeName: command.stepName,
    nodeType: command.toolKind,
    status: 'RUNNING',
    result: { status: 'RUNNING', context: by },
    meta: { ...by, actionable: false },
    workerId,
    commandKey: command.commandKey,
  };
}

/** What each claim of the batch wrote, as the claim statement answers it. */
function claimedResults(row: Record<string, unknown>, claims: readonly BatchClaim[]): ClaimResult[] {
  const written = new Set(Array.isArray(row['claimed']) ? row['claimed'].map(String) : []);
  const now = time(row, 'now');
  return claims.map((claim) => {
    // The statement fails rather than write one without the other (queries/events.ts).
    if (!written.has(claim.command.commandId)) {
      throw new NoetlError('INTERNAL', `command ${claim.command.commandId} was not written claimed`);
    }
    return {
      command: claimedRecord(claim, now),
      claimEventId: claim.event.eventId,
      alreadyClaimed: false,
      executionEventCount: null,
    };
  });
}

/** The command row a claim of the batch wrote (what `RETURNING` of the claim statement gives). */
function claimedRecord({ command, workerId, event }: BatchClaim, now: string): CommandRecord {
  return {
    commandId: command.commandId,
    commandKey: command.commandKey,
    eventId: command.commandId,
    executionId: command.executionId,
    catalogId: command.catalogId ?? null,
    parentExecutionId: command.parentExecutionId ?? null,
    parentCommandId: command.parentCommandId ?? null,
    stepName: command.stepName,
    toolKind: command.toolKind,
    executionPool: command.executionPool ?? null,
    status: 'CLAIMED',
    workerId,
    claimedAt: now,
    startedAt: null,
    completedAt: null,
    attempt: command.attempt ?? 1,
    context: command.context,
    meta: command.meta ?? null,
    result: null,
    error: null,
    iterIndex: command.iterIndex ?? null,
    loopEventId: command.loopEventId ?? null,
    latestEventId: compareIds(event.eventId, command.commandId) > 0 ? event.eventId : command.commandId,
    publishedAt: null,
    createdAt: now,
    updatedAt: now,
  };
}

/** 1-based positions as the drivers return an integer[] (numbers; strings to be safe). */
function positions(value: unknown): number[] {
  return Array.isArray(value) ? value.map((v) => Number(v)) : [];
}

/** The id of the event that made an insert a no-op (the input's own when none is visible). */
async function findDuplicate(ctx: RepoContext, event: EventInput, later: string[]): Promise<string> {
  const found = await ctx.db.query(ctx.sql.events.findDuplicate, [
    event.executionId,
    event.eventId,
    event.idempotencyKey ?? null,
    commandKeyOf(event) ?? null,
    event.eventType,
    later,
  ]);
  const existing = found.rows[0];
  return existing ? text(existing, 'event_id') : event.eventId;
}

/** A number column as JSON: non-finite values as the text PostgreSQL reads back. */
function float(value: number | undefined): number | string | undefined {
  return value === undefined || Number.isFinite(value) ? value : String(value);
}

/**
 * One element of the statement's event array. Absent keys are SQL NULL; a JSON `null` context
 * stays the jsonb value `null`, as a jsonb parameter would store it.
 */
function eventRow(event: EventInput): Record<string, JsonValue | undefined> {
  return {
    execution_id: event.executionId,
    event_id: event.eventId,
    catalog_id: event.catalogId,
    parent_event_id: event.parentEventId,
    parent_execution_id: event.parentExecutionId,
    created_at: event.createdAt,
    event_type: event.eventType,
    node_id: event.nodeId,
    node_name: event.nodeName,
    node_type: event.nodeType,
    status: event.status,
    duration: float(event.duration),
    context: event.context,
    result: event.result,
    meta: event.meta,
    error: event.error,
    worker_id: event.workerId,
    command_key: commandKeyOf(event),
    idempotency_key: event.idempotencyKey,
    current_index: float(event.currentIndex),
    execution_status: executionStatusOf(event.eventType),
    command_status: commandStatusOf(event.eventType),
  };
}

function initRow(init: ExecutionInit): Record<string, JsonValue | undefined> {
  return {
    execution_id: init.executionId,
    catalog_id: init.catalogId,
    parent_execution_id: init.parentExecutionId,
    path: init.path,
    workload: init.workload,
    idempotency_key: init.idempotencyKey,
  };
}

function commandRow(command: CommandInput, claim?: BatchClaim): Record<string, JsonValue | undefined> {
  return {
    ...(claim ? { worker_id: claim.workerId, claim_event_id: claim.event.eventId } : {}),
    command_id: command.commandId,
    command_key: command.commandKey,
    execution_id: command.executionId,
    catalog_id: command.catalogId,
    parent_execution_id: command.parentExecutionId,
    parent_command_id: command.parentCommandId,
    step_name: command.stepName,
    tool_kind: command.toolKind,
    execution_pool: command.executionPool,
    context: command.context,
    meta: command.meta,
    attempt: command.attempt ?? 1,
    iter_index: float(command.iterIndex),
    loop_event_id: command.loopEventId,
  };
}
