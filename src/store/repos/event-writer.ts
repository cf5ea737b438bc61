import type { AppendBatch, AppendedEvent, AppendResult } from '../ports.js';
import type { CommandInput, EventInput, ExecutionInit } from '../records.js';
import { jsonParam, opt, text } from '../rows.js';
import type { RepoContext } from './context.js';
import { commandKeyOf, commandStatusOf, executionStatusOf } from './projection.js';

/**
 * Writes events and command rows and folds them into the projections. Runs inside the caller's
 * transaction: everything of one batch commits together or not at all.
 */
export async function writeBatch(ctx: RepoContext, batch: AppendBatch): Promise<AppendResult> {
  if (batch.execution) await initExecution(ctx, batch.execution);
  const events: AppendedEvent[] = [];
  for (const event of batch.events) events.push(await writeEvent(ctx, event));
  let commandsInserted = 0;
  for (const command of batch.commands ?? []) commandsInserted += await insertCommand(ctx, command);
  return { events, commandsInserted };
}

async function initExecution(ctx: RepoContext, init: ExecutionInit): Promise<void> {
  await ctx.db.query(ctx.sql.executions.init, [
    init.executionId,
    opt(init.catalogId),
    opt(init.parentExecutionId),
    opt(init.path),
    jsonParam(init.workload),
    opt(init.idempotencyKey),
  ]);
}

export async function writeEvent(ctx: RepoContext, event: EventInput): Promise<AppendedEvent> {
  const commandKey = commandKeyOf(event);
  const inserted = await ctx.db.query(ctx.sql.events.append, [
    event.executionId,
    event.eventId,
    opt(event.catalogId),
    opt(event.parentEventId),
    opt(event.parentExecutionId),
    opt(event.createdAt),
    event.eventType,
    opt(event.nodeId),
    opt(event.nodeName),
    opt(event.nodeType),
    opt(event.status),
    opt(event.duration),
    jsonParam(event.context),
    jsonParam(event.result),
    jsonParam(event.meta),
    opt(event.error),
    opt(event.workerId),
    opt(commandKey),
    opt(event.idempotencyKey),
    opt(event.currentIndex),
    opt(executionStatusOf(event.eventType)),
    opt(commandStatusOf(event.eventType)),
  ]);
  if (inserted.rows.length > 0) return { eventId: event.eventId, inserted: true };
  const found = await ctx.db.query(ctx.sql.events.findDuplicate, [
    event.executionId,
    event.eventId,
    opt(event.idempotencyKey),
    opt(commandKey),
    event.eventType,
  ]);
  const existing = found.rows[0];
  return { eventId: existing ? text(existing, 'event_id') : event.eventId, inserted: false };
}

async function insertCommand(ctx: RepoContext, command: CommandInput): Promise<number> {
  const result = await ctx.db.query(ctx.sql.commands.insert, [
    command.commandId,
    command.commandKey,
    command.executionId,
    opt(command.catalogId),
    opt(command.parentExecutionId),
    opt(command.parentCommandId),
    command.stepName,
    command.toolKind,
    opt(command.executionPool),
    jsonParam(command.context),
    jsonParam(command.meta),
    command.attempt ?? 1,
    opt(command.iterIndex),
    opt(command.loopEventId),
  ]);
  return result.rowCount;
}
