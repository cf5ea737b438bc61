import type { ClaimResult, CommandStore, SweepOptions } from '../ports.js';
import type { CommandRecord } from '../records.js';
import { opt } from '../rows.js';
import { claimCommand } from './claim.js';
import { DEFAULT_LIST_LIMIT, type RepoContext } from './context.js';
import { toCommand } from './mappers.js';

export class SqlCommandStore implements CommandStore {
  constructor(private readonly ctx: RepoContext) {}

  async get(commandId: string): Promise<CommandRecord | undefined> {
    return this.one(this.ctx.sql.commands.get, [commandId]);
  }

  async getByKey(commandKey: string): Promise<CommandRecord | undefined> {
    return this.one(this.ctx.sql.commands.getByKey, [commandKey]);
  }

  async listByExecution(executionId: string): Promise<CommandRecord[]> {
    return this.many(this.ctx.sql.commands.listByExecution, [executionId]);
  }

  claim(commandId: string, workerId: string): Promise<ClaimResult> {
    return claimCommand(this.ctx, commandId, workerId);
  }

  async listClaimedBy(workerIds: readonly string[]): Promise<CommandRecord[]> {
    if (workerIds.length === 0) return [];
    return this.many(this.ctx.sql.commands.listClaimedBy, [[...workerIds]]);
  }

  async listStale(options: SweepOptions): Promise<CommandRecord[]> {
    return this.many(this.ctx.sql.commands.listStale, sweepParams(options));
  }

  async listUnpublished(options: SweepOptions): Promise<CommandRecord[]> {
    return this.many(this.ctx.sql.commands.listUnpublished, sweepParams(options));
  }

  async listUnclaimed(options: SweepOptions): Promise<CommandRecord[]> {
    return this.many(this.ctx.sql.commands.listUnclaimed, sweepParams(options));
  }

  async markPublished(commandIds: readonly string[]): Promise<number> {
    if (commandIds.length === 0) return 0;
    const result = await this.ctx.db.query(this.ctx.sql.commands.markPublished, [[...commandIds]]);
    return result.rowCount;
  }

  async release(commandId: string, workerId?: string): Promise<boolean> {
    const result = await this.ctx.db.query(this.ctx.sql.commands.release, [commandId, opt(workerId)]);
    return result.rowCount > 0;
  }

  async releaseUnstarted(options: SweepOptions): Promise<CommandRecord[]> {
    return this.many(this.ctx.sql.commands.releaseUnstarted, sweepParams(options));
  }

  private async one(text: string, params: readonly unknown[]): Promise<CommandRecord | undefined> {
    const row = (await this.ctx.db.query(text, params)).rows[0];
    return row ? toCommand(row) : undefined;
  }

  private async many(text: string, params: readonly unknown[]): Promise<CommandRecord[]> {
    return (await this.ctx.db.query(text, params)).rows.map(toCommand);
  }
}

function sweepParams(options: SweepOptions): unknown[] {
  return [Math.max(0, options.olderThanMs), options.limit ?? DEFAULT_LIST_LIMIT];
}
