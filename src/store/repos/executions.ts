import type { ExecutionListOptions, ExecutionStore } from '../ports.js';
import type { ExecutionRecord } from '../records.js';
import { opt } from '../rows.js';
import { DEFAULT_LIST_LIMIT, type RepoContext } from './context.js';
import { toExecution } from './mappers.js';

export class SqlExecutionStore implements ExecutionStore {
  constructor(private readonly ctx: RepoContext) {}

  async get(executionId: string): Promise<ExecutionRecord | undefined> {
    const row = (await this.ctx.db.query(this.ctx.sql.executions.get, [executionId])).rows[0];
    return row ? toExecution(row) : undefined;
  }

  async list(options: ExecutionListOptions = {}): Promise<ExecutionRecord[]> {
    const result = await this.ctx.db.query(this.ctx.sql.executions.list, [
      opt(options.catalogId),
      opt(options.path),
      opt(options.status),
      opt(options.parentExecutionId),
      options.limit ?? DEFAULT_LIST_LIMIT,
      options.offset ?? 0,
    ]);
    return result.rows.map(toExecution);
  }

  async findByIdempotencyKey(key: string, withinMs: number): Promise<ExecutionRecord | undefined> {
    const result = await this.ctx.db.query(this.ctx.sql.executions.findByIdempotencyKey, [
      key,
      Math.max(0, withinMs),
    ]);
    const row = result.rows[0];
    return row ? toExecution(row) : undefined;
  }

  async listRunningOlderThan(olderThanMs: number): Promise<ExecutionRecord[]> {
    const result = await this.ctx.db.query(this.ctx.sql.executions.listRunningOlderThan, [
      Math.max(0, olderThanMs),
    ]);
    return result.rows.map(toExecution);
  }
}
