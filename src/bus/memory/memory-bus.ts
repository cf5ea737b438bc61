import { NoetlError, silentLogger } from '../../shared/index.js';
import type { Logger } from '../../shared/index.js';
import { Dispatcher, SettleOnceDelivery } from '../dispatcher.js';
import type { Settler } from '../dispatcher.js';
import { decodeNotification, encodeNotification } from '../notification.js';
import type {
  BusCapabilities,
  CommandBus,
  CommandHandler,
  CommandNotification,
  PublishReceipt,
  StopOptions,
  StopResult,
  SubscribeOptions,
  Subscription,
  SubscriptionFilter,
} from '../ports.js';
import { DEFAULT_SUBJECT_PREFIX, checkPool, resolvePool, subjectFor } from '../subject.js';

export interface MemoryBusOptions {
  /** Redeliver a notification not settled (nor `working()`) within this time. Default 60 000. */
  readonly ackWaitMs?: number;
  /** Deliveries of one notification before it is dropped. Default 1000. */
  readonly maxDeliver?: number;
  readonly logger?: Logger;
}

interface Entry {
  readonly subject: string;
  readonly pool: string;
  /** Kept encoded so every delivery goes through the wire format, as with JetStream. */
  readonly payload: string;
  /** The publish it came from (a publish to several groups makes one entry per group). */
  readonly seq: number;
  deliveries: number;
  /** Withdrawn before a delivery: dropped when its turn comes. */
  withdrawn?: boolean;
}

/** The in-process twin of a durable consumer: subscribers of one filter compete for its queue. */
interface Group {
  readonly pool: string | undefined;
  readonly ready: Entry[];
  readonly subscribers: MemorySubscription[];
  next: number;
  pumpScheduled: boolean;
}

const CAPABILITIES: BusCapabilities = {
  durable: false,
  crossProcess: false,
  dedupOnCommandId: false,
  withdraw: true,
};

/**
 * In-process bus for the local runner and the embedded server. At-least-once like JetStream:
 * ack-wait expiry, nak with delay and `maxDeliver`. A notification published while no group
 * matches waits for the first matching subscriber; each existing matching group gets a copy.
 */
export class MemoryBus implements CommandBus {
  readonly capabilities = CAPABILITIES;
  private readonly groups = new Map<string, Group>();
  private readonly backlog: Entry[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly subscriptions = new Set<MemorySubscription>();
  /** Entries of a publish not delivered yet, by receipt sequence (for `withdraw`). */
  private readonly undelivered = new Map<number, Entry[]>();
  private seq = 0;
  private readonly ackWaitMs: number;
  private readonly maxDeliver: number;
  private readonly logger: Logger;
  private closing: Promise<void> | undefined;

  constructor(options: MemoryBusOptions = {}) {
    this.ackWaitMs = options.ackWaitMs ?? 60_000;
    this.maxDeliver = options.maxDeliver ?? 1000;
    this.logger = options.logger ?? silentLogger;
  }

  /** Timers still armed (ack-wait and nak delays); 0 after close. */
  get activeTimers(): number {
    return this.timers.size;
  }

  get connected(): boolean {
    return !this.closed;
  }

  get closed(): boolean {
    return this.closing !== undefined;
  }

  /**
   * Notifications not settled yet: queued, delivered and waiting for their ack, or waiting out a
   * nak delay. 0 means nothing can be delivered again (tests use it instead of a quiet period).
   */
  get unsettled(): number {
    const live = (entries: readonly Entry[]) => entries.filter((e) => e.withdrawn !== true).length;
    let queued = live(this.backlog);
    for (const group of this.groups.values()) queued += live(group.ready);
    // every delivery awaiting its ack holds an ack-wait timer, every nak delay a timer of its own
    return queued + this.timers.size;
  }

  publish(notification: CommandNotification): Promise<PublishReceipt> {
    if (this.closed) return Promise.reject(new NoetlError('BUS_ERROR', 'bus is closed'));
    try {
      const payload = encodeNotification(notification);
      const pool = resolvePool(notification);
      const subject = subjectFor(notification, DEFAULT_SUBJECT_PREFIX);
      const seq = ++this.seq;
      const entries: Entry[] = [];
      const matching = [...this.groups.values()].filter((g) => g.pool === undefined || g.pool === pool);
      if (matching.length === 0) {
        const entry = { subject, pool, payload, deliveries: 0, seq };
        this.backlog.push(entry);
        entries.push(entry);
      }
      for (const group of matching) {
        const entry = { subject, pool, payload, deliveries: 0, seq };
        group.ready.push(entry);
        entries.push(entry);
        this.schedulePump(group);
      }
      this.undelivered.set(seq, entries);
      return Promise.resolve({ seq });
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /** Drops the publish's copies no subscriber was handed yet. */
  withdraw(receipt: PublishReceipt): Promise<void> {
    const entries = this.undelivered.get(receipt.seq);
    this.undelivered.delete(receipt.seq);
    for (const entry of entries ?? []) if (entry.deliveries === 0) entry.withdrawn = true;
    return Promise.resolve();
  }

  subscribe(
    filter: SubscriptionFilter,
    handler: CommandHandler,
    options: SubscribeOptions,
  ): Promise<Subscription> {
    if (this.closed) return Promise.reject(new NoetlError('BUS_ERROR', 'bus is closed'));
    try {
      const group = this.group(filter.pool === undefined ? undefined : checkPool(filter.pool));
      const onError = options.onError ?? ((error: Error) => this.logger.error({ err: error }, error.message));
      const sub = new MemorySubscription(
        handler,
        options,
        onError,
        () => this.schedulePump(group),
        (s) => {
          group.subscribers.splice(group.subscribers.indexOf(s), 1);
          this.subscriptions.delete(s);
        },
      );
      group.subscribers.push(sub);
      this.subscriptions.add(sub);
      this.schedulePump(group);
      return Promise.resolve(sub);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  close(options: StopOptions = {}): Promise<void> {
    this.closing ??= (async () => {
      await Promise.all([...this.subscriptions].map((s) => s.stop(options)));
      for (const t of this.timers) clearTimeout(t);
      this.timers.clear();
      this.groups.clear();
      this.backlog.length = 0;
      this.undelivered.clear();
    })();
    return this.closing;
  }

  private group(pool: string | undefined): Group {
    const key = pool ?? '*';
    let group = this.groups.get(key);
    if (!group) {
      group = { pool, ready: [], subscribers: [], next: 0, pumpScheduled: false };
      this.groups.set(key, group);
      for (let i = 0; i < this.backlog.length;) {
        const entry = this.backlog[i];
        if (entry && (pool === undefined || entry.pool === pool)) {
          group.ready.push(entry);
          this.backlog.splice(i, 1);
        } else i++;
      }
    }
    return group;
  }

  private schedulePump(group: Group): void {
    if (group.pumpScheduled) return;
    group.pumpScheduled = true;
    queueMicrotask(() => {
      group.pumpScheduled = false;
      this.pump(group);
    });
  }

  /** Hands ready entries to subscribers with a free slot, round robin. */
  private pump(group: Group): void {
    while (group.ready.length > 0 && !this.closed) {
      const sub = this.pick(group);
      if (!sub) return;
      const entry = group.ready.shift();
      if (entry?.withdrawn === true) continue;
      if (entry) this.deliver(group, sub, entry);
    }
  }

  private pick(group: Group): MemorySubscription | undefined {
    const n = group.subscribers.length;
    for (let k = 0; k < n; k++) {
      const sub = group.subscribers[(group.next + k) % n];
      if (sub && sub.free > 0) {
        group.next = (group.next + k + 1) % n;
        return sub;
      }
    }
    return undefined;
  }

  private deliver(group: Group, sub: MemorySubscription, entry: Entry): void {
    if (entry.deliveries === 0) this.undelivered.delete(entry.seq);
    entry.deliveries++;
    let live = true; // false once settled or expired: later settles of this delivery do nothing
    let ackTimer: NodeJS.Timeout | undefined;
    const arm = (): void => {
      this.clear(ackTimer);
      ackTimer = this.later(() => {
        live = false;
        this.requeue(group, entry, 0);
      }, this.ackWaitMs);
    };
    const finish = (): boolean => {
      if (!live) return false;
      live = false;
      this.clear(ackTimer);
      return true;
    };
    const settler: Settler = {
      ack: () => void finish(),
      term: () => void finish(),
      nak: (delayMs) => {
        if (finish()) this.requeue(group, entry, delayMs);
      },
      working: () => {
        if (live) arm();
      },
    };
    arm();
    const delivery = new SettleOnceDelivery(settler, entry.deliveries, entry.subject, sub.onError);
    sub.accept(decodeNotification(entry.payload), delivery);
  }

  private requeue(group: Group, entry: Entry, delayMs: number): void {
    if (this.closed) return;
    if (entry.deliveries >= this.maxDeliver) {
      this.logger.warn(
        { subject: entry.subject, deliveries: entry.deliveries },
        'max deliveries reached, dropped',
      );
      return;
    }
    const back = (): void => {
      group.ready.push(entry);
      this.schedulePump(group);
    };
    if (delayMs <= 0) back();
    else this.later(back, delayMs);
  }

  private later(fn: () => void, ms: number): NodeJS.Timeout {
    const t: NodeJS.Timeout = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    t.unref(); // a bus alone never keeps the process alive
    this.timers.add(t);
    return t;
  }

  private clear(t: NodeJS.Timeout | undefined): void {
    if (t === undefined) return;
    clearTimeout(t);
    this.timers.delete(t);
  }
}

class MemorySubscription implements Subscription {
  private readonly dispatcher: Dispatcher;

  constructor(
    handler: CommandHandler,
    options: SubscribeOptions,
    readonly onError: (error: Error) => void,
    onCapacity: () => void,
    private readonly onStopped: (s: MemorySubscription) => void,
  ) {
    this.dispatcher = new Dispatcher(handler, options, onError, onCapacity);
  }

  get inFlight(): number {
    return this.dispatcher.inFlight;
  }

  get free(): number {
    return this.dispatcher.free;
  }

  accept(notification: CommandNotification, delivery: SettleOnceDelivery): void {
    this.dispatcher.accept(notification, delivery);
  }

  stop(options: StopOptions = {}): Promise<StopResult> {
    if (!this.dispatcher.stopped) this.onStopped(this);
    return this.dispatcher.stop(options);
  }
}
