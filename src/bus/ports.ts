import type { JsonObject } from '../shared/index.js';

/**
 * The notification that tells a worker a command waits to be claimed (contract section 6).
 * It carries ids only: the command itself lives in Postgres and is fetched by the claim.
 *
 * `execution_id` and `event_id` are i64 snowflakes, above 2^53: they are decimal strings here and
 * JSON numbers on the wire, written and read digit for digit (see notification.ts).
 */
export interface CommandNotification {
  readonly execution_id: string;
  readonly event_id: string;
  /** `<execution_id>:<step>:<event_id>[:i<n>]`; also the JetStream de-dup id. */
  readonly command_id: string;
  readonly step: string;
  readonly server_url: string;
  /** Pool the command is routed to; empty means "resolve by path", i.e. `shared`. */
  readonly execution_pool: string;
  readonly trace?: JsonObject;
}

/**
 * One delivery of a notification to one handler. Settling is first-wins: after `ack`, `nak` or
 * `term`, further settle calls do nothing. Settling never throws (a lost ack only means a
 * redelivery, which the claim in Postgres absorbs).
 */
export interface Delivery {
  /** 1 on the first delivery, 2 on the first redelivery, ... */
  readonly deliveryCount: number;
  /** The subject the notification was published on. */
  readonly subject: string;
  /** True once ack, nak or term was called (or the bus settled it itself). */
  readonly settled: boolean;
  /** Done with this notification: never deliver it again (e.g. after a claim, or a 409). */
  ack(): void;
  /** Give it back: deliver again after `delayMs` (0 = as soon as possible), maybe elsewhere. */
  nak(delayMs?: number): void;
  /** Poison: never deliver again, without processing (undecodable, or no such command). */
  term(reason?: string): void;
  /** Still working on it: restart the ack-wait clock so it is not redelivered meanwhile. */
  working(): void;
}

/**
 * Handles one notification. If it resolves without settling, the bus acks; if it throws without
 * settling, the bus naks with `SubscribeOptions.retryDelayMs`.
 */
export type CommandHandler = (notification: CommandNotification, delivery: Delivery) => void | Promise<void>;

/** Which notifications a subscription competes for. */
export interface SubscriptionFilter {
  /** One pool (`shared`, `system`, a named pool); omitted = every pool. */
  readonly pool?: string;
}

export interface SubscribeOptions {
  /** Handlers running at once in this subscription; no more is pulled beyond it. */
  readonly maxInFlight: number;
  /** Delay of the automatic nak when a handler throws without settling. Default 1000 ms. */
  readonly retryDelayMs?: number;
  /** Called with failures the bus cannot hand to a handler (undecodable message, pull error). */
  readonly onError?: (error: Error) => void;
}

export interface StopOptions {
  /** How long to wait for in-flight handlers. Default 30 000 ms. */
  readonly graceMs?: number;
}

export interface StopResult {
  /** True when every in-flight handler finished within the grace period. */
  readonly drained: boolean;
  /** Unsettled deliveries given back (nak 0) because their handler outlived the grace period. */
  readonly released: number;
}

export interface Subscription {
  /** Handlers running now. */
  readonly inFlight: number;
  /**
   * Stops pulling at once, waits up to `graceMs` for in-flight handlers, then gives back any
   * delivery still unsettled. Idempotent: later calls return the first call's promise.
   */
  stop(options?: StopOptions): Promise<StopResult>;
}

export interface PublishOptions {
  /**
   * Identity of this publish for the bus's de-duplication (JetStream `Nats-Msg-Id`, see
   * `dedupOnCommandId`): a second publish with the same id within the window is dropped.
   * Default: the notification's `command_id`, so a retried publish is stored once. A deliberate
   * re-publish of a command the bus already delivered (released by the reaper, or never claimed)
   * must pass a new id, or the bus would drop it as a duplicate.
   */
  readonly dedupId?: string;
}

/** What an adapter can do; callers branch on these, never on the adapter's name (STYLE.md 3). */
export interface BusCapabilities {
  /** Published notifications survive a process restart. */
  readonly durable: boolean;
  /** Publishers and subscribers may live in different processes or machines. */
  readonly crossProcess: boolean;
  /** `publish` de-duplicates on `command_id` within a window. */
  readonly dedupOnCommandId: boolean;
  /** `publish` returns a receipt and `withdraw` removes a notification not delivered yet. */
  readonly withdraw: boolean;
}

/**
 * The bus's handle on a published notification (JetStream: the stream sequence), for
 * `withdraw`. Opaque to callers.
 */
export interface PublishReceipt {
  readonly seq: number;
}

/**
 * The command-notification bus: at-least-once delivery, competing subscribers. Exactly-once is
 * not the bus's job: the claim in Postgres (contract section 3.6) is the gate.
 */
export interface CommandBus {
  readonly capabilities: BusCapabilities;
  /**
   * Resolves once the bus has accepted the notification (for JetStream: the stream's ack), with
   * a receipt when the bus can withdraw it (`capabilities.withdraw`).
   */
  publish(notification: CommandNotification, options?: PublishOptions): Promise<PublishReceipt | undefined>;
  /**
   * Removes a published notification that no subscriber was handed yet (its command reached a
   * worker another way); one already delivered stays delivered, and the claim gate refuses its
   * second run. Best effort: a notification the bus cannot find is no error.
   */
  withdraw(receipt: PublishReceipt): Promise<void>;
  /**
   * Starts competing for notifications matching `filter`. Resolves once the subscription is
   * set up (the durable consumer exists), so setup failures surface here.
   */
  subscribe(
    filter: SubscriptionFilter,
    handler: CommandHandler,
    options: SubscribeOptions,
  ): Promise<Subscription>;
  /** Stops every subscription (grace as given) and releases connections and timers. Idempotent. */
  close(options?: StopOptions): Promise<void>;
  /** Whether the bus can publish now (false once closed, or while its connection is down for good). */
  readonly connected: boolean;
}
