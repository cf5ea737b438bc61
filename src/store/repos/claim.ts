import { ConflictError, NotFoundError } from '../../shared/index.js';
import type { ClaimResult } from '../ports.js';
import { numOrNull, text, textOrNull } from '../rows.js';
import type { RepoContext } from './context.js';
import { toCommand } from './mappers.js';

/**
 * The exactly-once gate of contract 3.6. One statement (queries/commands.ts `claim`) tries the
 * advisory lock, flips PENDING to CLAIMED and writes `command.claimed`; when it did not claim,
 * we work out why: an idempotent repeat by the holder, or a conflict.
 */
export async function claimCommand(
  ctx: RepoContext,
  commandId: string,
  workerId: string,
): Promise<ClaimResult> {
  const claimEventId = ctx.ids.next();
  const row = (await ctx.db.query(ctx.sql.commands.claim, [commandId, workerId, claimEventId])).rows[0];
  if (!row) throw notFound(commandId);
  if (row['command_id'] !== null && row['command_id'] !== undefined) {
    return {
      command: toCommand(row),
      claimEventId,
      alreadyClaimed: false,
      executionEventCount: numOrNull(row, 'execution_event_count'),
    };
  }
  if (textOrNull(row, 'head_execution_status') === 'CANCELLED') {
    throw conflict(commandId, 'its execution is cancelled', 'execution_cancelled');
  }
  if (row['head_locked'] !== true) {
    throw conflict(commandId, 'another claim of it is in progress', 'claim_in_progress');
  }
  return explainLostClaim(ctx, commandId, text(row, 'head_command_key'), workerId);
}

/** The command was not PENDING: an idempotent repeat by its holder, or a conflict. */
async function explainLostClaim(
  ctx: RepoContext,
  commandId: string,
  commandKey: string,
  workerId: string,
): Promise<ClaimResult> {
  const row = (await ctx.db.query(ctx.sql.commands.get, [commandId])).rows[0];
  if (!row) throw notFound(commandId);
  const command = toCommand(row);
  switch (command.status) {
    case 'COMPLETED':
    case 'FAILED':
      throw conflict(commandId, `it is already ${command.status.toLowerCase()}`, 'finished');
    case 'CANCELLED':
      throw conflict(commandId, 'it was cancelled', 'execution_cancelled');
    case 'CLAIMED':
    case 'RUNNING': {
      if (command.workerId !== workerId) {
        throw new ConflictError(`Command already claimed by ${command.workerId ?? 'another worker'}`, {
          details: { commandId, reason: 'claimed', workerId: command.workerId },
        });
      }
      const found = await ctx.db.query(ctx.sql.events.findClaim, [commandKey, workerId, command.executionId]);
      const claim = found.rows[0];
      return {
        command,
        claimEventId: claim ? text(claim, 'event_id') : null,
        alreadyClaimed: true,
        executionEventCount: null,
      };
    }
    case 'PENDING':
      // Released between the claim and this read: the caller may simply claim again.
      throw conflict(commandId, 'it changed while being claimed', 'claim_in_progress');
  }
}

function notFound(commandId: string): NotFoundError {
  return new NotFoundError(`command ${commandId} not found`, { details: { commandId } });
}

function conflict(commandId: string, why: string, reason: string): ConflictError {
  return new ConflictError(`command ${commandId} cannot be claimed: ${why}`, {
    details: { commandId, reason },
  });
}
