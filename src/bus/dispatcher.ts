import { NoetlError, errorMessage } from '../shared/index.js';
import type {
  CommandHandler,
  CommandNotification,
  Delivery,
  StopOptions,
  StopResult,
  SubscribeOptions,
} from './ports.js';

export const DEFAULT_GRACE_MS = 30_000;
export const DEFAULT_RETRY_DELAY_MS = 1_000;

/** What an adapter does when a delivery is settled. Any of these may throw; callers swallow. */
export interface Settler {
  ack(): void;
  nak(delayMs: number): void;
  term(reason?: string): void;
  working(): void;
}

/** First settle wins; failures to settle are reported, never thrown (a lost ack = a redelivery). */
export class SettleOnceDelivery implements Delivery {
  private done = false;

  constructor(
    private readonly settler: Settler,
    readonly deliveryCount: number,
    readonly subject: string,
    private readonly onError: (error: Error) => void,
  ) {}

  get settled(): boolean {
    return this.done;
  }

  ack(): void {
    this.settle('ack', () => this.settler.ack());
  }

  nak(delayMs = 0): void {
    this.settle('nak', () => this.settler.nak(Math.max(0, Math.floor(delayMs))));
  }

  term(reason?: string): void {
    this.settle('term', () => this.settler.term(reason));
  }

  working(): void {
    if (this.done) return;
    this.call('working', () => this.settler.working());
  }

  private settle(what: string, fn: () => void): void {
    if (this.done) return;
    this.done = true;
    this.call(what, fn);
  }

  private call(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.onError(
        new NoetlError('BUS_ERROR', `${what} failed: ${errorMessage(err)}`, { cause: err, retryable: true }),
      );
    }
  }
}

interface Pending {
  readonly notification: CommandNotification;
  readonly delivery: Delivery;
}

/**
 * Runs handlers with at most `maxInFlight` at once and drains them on stop. Both adapters use
 * it, so the handler-facing rules (auto-ack, nak on throw, stop semantics) are identical.
 */
export class Dispatcher {
  private running = 0;
  private readonly queue: Pending[] = [];
  private readonly active = new Set<Delivery>();
  private listeners: (() => void)[] = [];
  private stopping: Promise<StopResult> | undefined;
  readonly maxInFlight: number;
  private readonly retryDelayMs: number;

  constructor(
    private readonly handler: CommandHandler,
    options: SubscribeOptions,
    private readonly onError: (error: Error) => void,
    /** Called whenever a slot frees up, so a push-style adapter can offer the next message. */
    private readonly onCapacity: () => void = () => undefined,
  ) {
    if (!Number.isInteger(options.maxInFlight) || options.maxInFlight < 1) {
      throw new NoetlError('BUS_ERROR', `maxInFlight must be a positive integer, got ${options.maxInFlight}`);
    }
    this.maxInFlight = options.maxInFlight;
    this.retryDelayMs = options.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS;
  }

  get inFlight(): number {
    return this.running;
  }

  get stopped(): boolean {
    return this.stopping !== undefined;
  }

  /** Slots not taken by running handlers nor promised to messages waiting for one. */
  get free(): number {
    return this.stopped ? 0 : this.maxInFlight - this.running - this.queue.length;
  }

  /** Takes a delivered message: runs it now, or queues it if every slot is busy. */
  accept(notification: CommandNotification, delivery: Delivery): void {
    if (this.stopped) {
      delivery.nak(0);
      return;
    }
    if (this.running < this.maxInFlight) this.start({ notification, delivery });
    else this.queue.push({ notification, delivery });
  }

  /** Resolves when a slot is free or the dispatcher stopped. */
  async waitForCapacity(): Promise<void> {
    while (this.free <= 0 && !this.stopped) await this.changed();
  }

  stop(options: StopOptions = {}): Promise<StopResult> {
    this.stopping ??= this.drain(options.graceMs ?? DEFAULT_GRACE_MS);
    return this.stopping;
  }

  private async drain(graceMs: number): Promise<StopResult> {
    for (const p of this.queue.splice(0)) p.delivery.nak(0);
    this.notify();
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs);
    });
    const idle = (async () => {
      while (this.running > 0) await this.changed();
    })();
    await Promise.race([idle, grace]);
    clearTimeout(timer);
    let released = 0;
    for (const delivery of this.active) {
      if (!delivery.settled) {
        delivery.nak(0);
        released++;
      }
    }
    return { drained: this.running === 0, released };
  }

  private start(p: Pending): void {
    this.running++;
    this.active.add(p.delivery);
    void this.run(p);
  }

  private async run({ notification, delivery }: Pending): Promise<void> {
    try {
      await this.handler(notification, delivery);
      if (!delivery.settled) delivery.ack();
    } catch (err) {
      if (!delivery.settled) delivery.nak(this.retryDelayMs);
      this.onError(
        new NoetlError('BUS_ERROR', `command handler failed: ${errorMessage(err)}`, {
          cause: err,
          details: { command_id: notification.command_id },
        }),
      );
    } finally {
      this.running--;
      this.active.delete(delivery);
      const next = this.stopped ? undefined : this.queue.shift();
      if (next) this.start(next);
      this.notify();
      if (!this.stopped) this.onCapacity();
    }
  }

  private changed(): Promise<void> {
    return new Promise((resolve) => this.listeners.push(resolve));
  }

  private notify(): void {
    const listeners = this.listeners;
    this.listeners = [];
    for (const l of listeners) l();
  }
}
