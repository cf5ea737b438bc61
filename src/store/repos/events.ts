import type { AppendBatch, AppendResult, EventListOptions, EventRef, EventStore } from '../ports.js';
import type { EventRecord } from '../records.js';
import { num, opt, text } from '../rows.js';
import type { RepoContext } from './context.js';
import { writeBatch } from './event-writer.js';
import { toEvent } from './mappers.js';

export class SqlEventStore implements EventStore {
  constructor(private readonly ctx: RepoContext) {}

  /** One statement whatever the batch holds: atomic without a transaction of its own. */
  append(batch: AppendBatch): Promise<AppendResult> {
    return writeBatch(this.ctx, batch);
  }

  async list(executionId: string, options: EventListOptions = {}): Promise<EventRecord[]> {
    const result = await this.ctx.db.query(this.ctx.sql.events.list, [
      executionId,
      opt(options.afterEventId),
      options.types ? [...options.types] : null,
      opt(options.limit),
    ]);
    return result.rows.map(toEvent);
  }

  async get(executionId: string, eventId: string): Promise<EventRecord | undefined> {
    const result = await this.ctx.db.query(this.ctx.sql.events.get, [executionId, eventId]);
    const row = result.rows[0];
    return row ? toEvent(row) : undefined;
  }

  async feed(afterEventId: string, limit: number): Promise<EventRef[]> {
    const result = await this.ctx.db.query(this.ctx.sql.events.feed, [afterEventId, limit]);
    return result.rows.map((row) => ({
      executionId: text(row, 'execution_id'),
      eventId: text(row, 'event_id'),
      eventType: text(row, 'event_type'),
    }));
  }

  async getMany(refs: readonly Pick<EventRef, 'executionId' | 'eventId'>[]): Promise<EventRecord[]> {
    if (refs.length === 0) return [];
    const result = await this.ctx.db.query(this.ctx.sql.events.getMany, [
      refs.map((r) => r.executionId),
      refs.map((r) => r.eventId),
    ]);
    return result.rows.map(toEvent);
  }

  async countByType(executionId: string): Promise<Record<string, number>> {
    const result = await this.ctx.db.query(this.ctx.sql.events.countByType, [executionId]);
    const counts: Record<string, number> = {};
    for (const row of result.rows) counts[text(row, 'event_type')] = num(row, 'n');
    return counts;
  }
}
