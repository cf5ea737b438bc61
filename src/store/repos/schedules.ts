import { NoetlError } from '../../shared/index.js';
import type { DbRow } from '../db.js';
import { bool, jsonParam, num, objectOrNull, opt, text, textOrNull, time, timeOrNull } from '../rows.js';
import type {
  ScheduleAdvance,
  ScheduleCatchup,
  ScheduleFireInput,
  ScheduleFireOutcome,
  ScheduleFireRecord,
  ScheduleInput,
  ScheduleOverlap,
  ScheduleRecord,
  ScheduleStore,
} from '../schedule-records.js';
import { DEFAULT_LIST_LIMIT, type RepoContext } from './context.js';

function toSchedule(row: DbRow): ScheduleRecord {
  const version = textOrNull(row, 'playbook_version');
  const description = textOrNull(row, 'description');
  return {
    scheduleId: text(row, 'schedule_id'),
    path: text(row, 'playbook_path'),
    version: version === null ? null : Number(version),
    cron: text(row, 'cron'),
    timezone: textOrNull(row, 'timezone') ?? 'UTC',
    workload: objectOrNull(row, 'input_payload') ?? {},
    enabled: bool(row, 'enabled'),
    catchup: text(row, 'catchup') as ScheduleCatchup,
    catchupLimit: num(row, 'catchup_limit'),
    overlap: text(row, 'overlap') as ScheduleOverlap,
    description,
    nextRunAt: timeOrNull(row, 'next_run_at'),
    lastRunAt: timeOrNull(row, 'last_run_at'),
    lastStatus: textOrNull(row, 'last_status'),
    createdAt: time(row, 'created_at'),
    updatedAt: time(row, 'updated_at'),
  };
}

function toFire(row: DbRow): ScheduleFireRecord {
  return {
    scheduleId: text(row, 'schedule_id'),
    fireTime: time(row, 'fire_time'),
    executionId: textOrNull(row, 'execution_id'),
    outcome: text(row, 'outcome') as ScheduleFireOutcome,
    error: textOrNull(row, 'error'),
    createdAt: time(row, 'created_at'),
  };
}

function fields(input: ScheduleInput): unknown[] {
  return [
    input.path,
    input.version === undefined ? null : String(input.version),
    input.cron,
    input.enabled,
    input.timezone,
    opt(input.nextRunAt),
    jsonParam(input.workload),
    input.catchup,
    input.catchupLimit,
    input.overlap,
    opt(input.description),
  ];
}

export class SqlScheduleStore implements ScheduleStore {
  constructor(private readonly ctx: RepoContext) {}

  async insert(input: ScheduleInput): Promise<ScheduleRecord> {
    const result = await this.ctx.db.query(this.ctx.sql.schedules.insert, [
      this.ctx.ids.next(),
      ...fields(input),
    ]);
    const row = result.rows[0];
    if (!row) throw new NoetlError('DB_ERROR', 'schedule insert returned no row');
    return toSchedule(row);
  }

  async update(scheduleId: string, input: ScheduleInput): Promise<ScheduleRecord | undefined> {
    const result = await this.ctx.db.query(this.ctx.sql.schedules.update, [scheduleId, ...fields(input)]);
    const row = result.rows[0];
    return row ? toSchedule(row) : undefined;
  }

  async get(scheduleId: string): Promise<ScheduleRecord | undefined> {
    const row = (await this.ctx.db.query(this.ctx.sql.schedules.get, [scheduleId])).rows[0];
    return row ? toSchedule(row) : undefined;
  }

  async list(options: { readonly path?: string; readonly limit?: number } = {}): Promise<ScheduleRecord[]> {
    const result = await this.ctx.db.query(this.ctx.sql.schedules.list, [
      opt(options.path),
      options.limit ?? DEFAULT_LIST_LIMIT,
    ]);
    return result.rows.map(toSchedule);
  }

  async delete(scheduleId: string): Promise<boolean> {
    return (await this.ctx.db.query(this.ctx.sql.schedules.delete, [scheduleId])).rowCount > 0;
  }

  async due(now: string, limit: number): Promise<ScheduleRecord[]> {
    return (await this.ctx.db.query(this.ctx.sql.schedules.due, [now, limit])).rows.map(toSchedule);
  }

  async advance(a: ScheduleAdvance): Promise<boolean> {
    const result = await this.ctx.db.query(this.ctx.sql.schedules.advance, [
      a.scheduleId,
      a.lastRunAt,
      a.nextRunAt,
      a.lastStatus,
      a.cron,
    ]);
    return result.rowCount > 0;
  }

  async recordFire(fire: ScheduleFireInput): Promise<void> {
    await this.ctx.db.query(this.ctx.sql.schedules.recordFire, [
      fire.scheduleId,
      fire.fireTime,
      opt(fire.executionId),
      fire.outcome,
      opt(fire.error),
    ]);
  }

  async fires(scheduleId: string, limit: number): Promise<ScheduleFireRecord[]> {
    return (await this.ctx.db.query(this.ctx.sql.schedules.fires, [scheduleId, limit])).rows.map(toFire);
  }

  async fireOfExecution(executionId: string): Promise<ScheduleFireRecord | undefined> {
    const row = (await this.ctx.db.query(this.ctx.sql.schedules.fireOfExecution, [executionId])).rows[0];
    return row ? toFire(row) : undefined;
  }
}
