import type {
  ExecutionListOptions,
  ExecutionPage,
  ExecutionPageOptions,
  ExecutionStore,
  IdempotencyLookup,
} from '../ports.js';
import type { ExecutionOverview, ExecutionRecord } from '../records.js';
import { opt, text } from '../rows.js';
import { DEFAULT_LIST_LIMIT, type RepoContext } from './context.js';
import { toExecution, toExecutionOverview } from './mappers.js';

const MAX_ID = '9223372036854775807';
const MIN_ID = '-9223372036854775808';
/** 9999-12-31T00:00:00Z in microseconds since the epoch. */
const NO_UPPER_MICROS = '253402214400000000';

export class SqlExecutionStore implements ExecutionStore {
  constructor(private readonly ctx: RepoContext) {}

  async get(executionId: string): Promise<ExecutionRecord | undefined> {
    const row = (await this.ctx.db.query(this.ctx.sql.executions.get, [executionId])).rows[0];
    return row ? toExecution(row) : undefined;
  }

  async overview(executionId: string): Promise<ExecutionOverview | undefined> {
    const row = (await this.ctx.db.query(this.ctx.sql.executions.overview, [executionId])).rows[0];
    return row ? toExecutionOverview(row) : undefined;
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

  async page(options: ExecutionPageOptions): Promise<ExecutionPage> {
    const after = options.after;
    // Without a cursor the bound is above any row: year 9999, the largest id; `until` is the
    // bound (until, smallest id), i.e. start_time < until.
    const upper =
      after !== undefined
        ? [after.startMicros, after.executionId]
        : options.until !== undefined
          ? [String(BigInt(Math.floor(options.until)) * 1000n), MIN_ID]
          : [NO_UPPER_MICROS, MAX_ID];
    const bounds = [
      options.since !== undefined ? new Date(options.since).toISOString() : '-infinity',
      upper[0],
      upper[1],
      options.limit + 1,
      options.offset ?? 0,
    ];
    const filters = [
      opt(options.catalogId),
      opt(options.status),
      opt(options.pathPrefix),
      opt(options.pathContains),
    ];
    const result = filters.every((f) => f === null)
      ? await this.ctx.db.query(this.ctx.sql.executions.page, bounds)
      : await this.ctx.db.query(this.ctx.sql.executions.pageFiltered, [...bounds, ...filters]);
    const rows = result.rows.slice(0, options.limit);
    const last = rows[rows.length - 1];
    return {
      executions: rows.map(toExecution),
      ...(result.rows.length > options.limit && last !== undefined
        ? { next: { startMicros: text(last, 'start_micros'), executionId: text(last, 'execution_id') } }
        : {}),
    };
  }

  async findByIdempotencyKey(key: string, withinMs: number): Promise<ExecutionRecord | undefined> {
    const result = await this.ctx.db.query(this.ctx.sql.executions.findByIdempotencyKey, [
      key,
      Math.max(0, withinMs),
    ]);
    const row = result.rows[0];
    return row ? toExecution(row) : undefined;
  }

  async findByIdempotencyKeys(keys: readonly IdempotencyLookup[]): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    if (keys.length === 0) return found;
    const result = await this.ctx.db.query(this.ctx.sql.executions.findByIdempotencyKeys, [
      keys.map((k) => k.key),
      keys.map((k) => Math.max(0, k.withinMs)),
    ]);
    for (const row of result.rows) found.set(text(row, 'idempotency_key'), text(row, 'execution_id'));
    return found;
  }

  async listRunningOlderThan(olderThanMs: number): Promise<ExecutionRecord[]> {
    const result = await this.ctx.db.query(this.ctx.sql.executions.listRunningOlderThan, [
      Math.max(0, olderThanMs),
    ]);
    return result.rows.map(toExecution);
  }
}
