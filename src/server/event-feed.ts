import type { FastifyBaseLogger } from 'fastify';
import { SNOWFLAKE_EPOCH_MS, errorMessage, snowflakeTime } from '../shared/index.js';
import type { EventRecord, EventRef, Store } from '../store/index.js';

/**
 * New events of every execution, read from the event log (not the bus) so that every replica
 * sees every event whoever wrote it. One poll serves every open stream of this process: the ids of
 * new events come from the `event_feed` index (index-only), then only the rows some stream wants
 * are read.
 *
 * Event ids are snowflakes generated before their transaction commits, so a smaller id can become
 * visible after a larger one. Each poll therefore looks again at the last `lagMs` of ids and
 * remembers which it has delivered: an event whose commit lags its id by less than that is never
 * missed, and none is delivered twice.
 */

export interface FeedSubscriber {
  /** Whether this subscriber wants the event (cheap: decided on the index row). */
  wants(ref: EventRef): boolean;
  /** New events it wants, in id order. */
  deliver(events: readonly EventRecord[]): void;
}

export interface EventFeedOptions {
  /** Poll interval while someone listens. Default 100 ms. */
  readonly intervalMs?: number;
  /** How far back each poll looks again for late commits. Default 2000 ms. */
  readonly lagMs?: number;
  /** Ids read per query. Default 2000. */
  readonly batch?: number;
  readonly now?: () => number;
  readonly logger?: FastifyBaseLogger;
}

/** The smallest snowflake id of millisecond `ms` (every id generated at or after it is larger). */
export function snowflakeFloor(ms: number): string {
  return (BigInt(Math.max(0, Math.floor(ms - SNOWFLAKE_EPOCH_MS))) << 22n).toString();
}

function maxId(a: string, b: string): string {
  return BigInt(a) >= BigInt(b) ? a : b;
}

export class EventFeed {
  private readonly subscribers = new Set<FeedSubscriber>();
  private readonly intervalMs: number;
  private readonly lagMs: number;
  private readonly batch: number;
  private readonly now: () => number;
  /** Ids delivered (or present when the feed started) within the lag window. */
  private seen = new Set<string>();
  /** Largest id seen; null until the feed started. */
  private high: string | null = null;
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private starting: Promise<void> | undefined;
  private stopped = false;
  private failures = 0;

  constructor(
    private readonly store: Store,
    private readonly options: EventFeedOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 100;
    this.lagMs = options.lagMs ?? 2000;
    this.batch = options.batch ?? 2000;
    this.now = options.now ?? Date.now;
  }

  /**
   * Starts delivering events that appear from now on. Resolves once the feed knows what "now" is,
   * so that a caller reading history afterwards misses nothing between the two.
   */
  async subscribe(subscriber: FeedSubscriber): Promise<() => void> {
    this.subscribers.add(subscriber);
    const unsubscribe = (): void => {
      this.subscribers.delete(subscriber);
    };
    if (this.high === null) {
      this.starting ??= this.start().finally(() => {
        this.starting = undefined;
      });
      try {
        await this.starting;
      } catch (error) {
        unsubscribe();
        throw error;
      }
    }
    return unsubscribe;
  }

  get size(): number {
    return this.subscribers.size;
  }

  /** Stops polling for good (server shutdown). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.subscribers.clear();
    await Promise.allSettled([this.polling, this.starting]);
  }

  /** Marks what is already in the window as seen: a new subscriber gets only what comes after. */
  private async start(): Promise<void> {
    const floor = snowflakeFloor(this.now() - this.lagMs);
    let high = floor;
    for (let after = floor; ;) {
      const refs = await this.store.events.feed(after, this.batch);
      for (const r of refs) this.seen.add(r.eventId);
      const last = refs[refs.length - 1];
      if (last) high = maxId(high, last.eventId);
      if (refs.length < this.batch || !last) break;
      after = last.eventId;
    }
    this.high = high;
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped || this.timer) return;
    const wait = this.failures === 0 ? this.intervalMs : Math.min(5000, this.intervalMs * 2 ** this.failures);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.subscribers.size === 0) {
        // Nobody listens: stop polling and forget; the next subscriber starts afresh.
        this.high = null;
        this.seen = new Set();
        return;
      }
      this.polling = this.poll()
        .then(() => {
          this.failures = 0;
        })
        .catch((error: unknown) => {
          this.failures = Math.min(this.failures + 1, 6);
          this.options.logger?.warn({ err: errorMessage(error) }, 'event feed: poll failed');
        })
        .finally(() => {
          this.polling = undefined;
          this.schedule();
        });
    }, wait);
    this.timer.unref();
  }

  private async poll(): Promise<void> {
    const high = this.high;
    if (high === null) return;
    const windowStart = snowflakeTime(high) - this.lagMs;
    let after = snowflakeFloor(windowStart);
    let newest = high;
    const fresh: EventRef[] = [];
    for (;;) {
      const refs = await this.store.events.feed(after, this.batch);
      for (const r of refs) {
        if (this.seen.has(r.eventId)) continue;
        this.seen.add(r.eventId);
        fresh.push(r);
      }
      const last = refs[refs.length - 1];
      if (last) newest = maxId(newest, last.eventId);
      if (refs.length < this.batch || !last) break;
      after = last.eventId;
    }
    this.high = newest;
    this.forget(snowflakeTime(newest) - this.lagMs);
    if (fresh.length > 0) await this.dispatch(fresh);
  }

  /** Drops remembered ids older than the window (they are never read again). */
  private forget(beforeMs: number): void {
    if (this.seen.size < 4 * this.batch) return;
    const kept = new Set<string>();
    for (const id of this.seen) if (snowflakeTime(id) >= beforeMs) kept.add(id);
    this.seen = kept;
  }

  private async dispatch(fresh: readonly EventRef[]): Promise<void> {
    const subscribers = [...this.subscribers];
    const wanted = new Map<FeedSubscriber, Set<string>>();
    const refs: EventRef[] = [];
    for (const r of fresh) {
      let any = false;
      for (const s of subscribers) {
        if (!s.wants(r)) continue;
        any = true;
        let ids = wanted.get(s);
        if (!ids) wanted.set(s, (ids = new Set()));
        ids.add(r.eventId);
      }
      if (any) refs.push(r);
    }
    if (refs.length === 0) return;
    const events: EventRecord[] = [];
    for (let i = 0; i < refs.length; i += 500) {
      events.push(...(await this.store.events.getMany(refs.slice(i, i + 500))));
    }
    for (const [s, ids] of wanted) {
      if (!this.subscribers.has(s)) continue;
      const mine = events.filter((e) => ids.has(e.eventId));
      if (mine.length > 0) s.deliver(mine);
    }
  }
}
