import type { Consumer, ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import { NoetlError, errorMessage } from '../../shared/index.js';
import { Dispatcher, SettleOnceDelivery } from '../dispatcher.js';
import type { Settler } from '../dispatcher.js';
import { decodeNotification } from '../notification.js';
import type { CommandHandler, StopOptions, StopResult, SubscribeOptions, Subscription } from '../ports.js';
import { busError, isClosedConnectionError } from './nats-errors.js';

export interface PullSettings {
  readonly fetchExpiresMs: number;
  readonly fetchHeartbeatMs: number;
}

const MAX_BACKOFF_MS = 5_000;

/**
 * Pulls with `fetch` sized to the free handler slots, so a worker never holds notifications it
 * cannot start: they stay on the server for a competing worker, and their ack-wait clock does
 * not run out in a local buffer (`consume()` refills on arrival, not on completion).
 */
export class NatsSubscription implements Subscription {
  private readonly dispatcher: Dispatcher;
  private batch: ConsumerMessages | undefined;
  private loop: Promise<void> = Promise.resolve();
  private wake: (() => void) | undefined;
  private stopping: Promise<StopResult> | undefined;

  constructor(
    private readonly consumer: Consumer,
    handler: CommandHandler,
    options: SubscribeOptions,
    private readonly settings: PullSettings,
    private readonly onError: (error: Error) => void,
    private readonly onStopped: (s: NatsSubscription) => void = () => undefined,
  ) {
    this.dispatcher = new Dispatcher(handler, options, onError);
  }

  get inFlight(): number {
    return this.dispatcher.inFlight;
  }

  start(): void {
    this.loop = this.run();
  }

  stop(options: StopOptions = {}): Promise<StopResult> {
    this.stopping ??= (async () => {
      const drained = this.dispatcher.stop(options);
      this.wake?.();
      // Ends the open pull request; anything still arriving is nak'ed by the stopped dispatcher.
      // (close() settles only once the batch is iterated, which the loop does: await the loop.)
      void this.batch?.close().catch(() => undefined);
      await this.loop;
      const result = await drained;
      this.onStopped(this);
      return result;
    })();
    return this.stopping;
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.dispatcher.stopped) {
      await this.dispatcher.waitForCapacity();
      if (this.dispatcher.stopped) return;
      try {
        const batch = await this.consumer.fetch({
          max_messages: this.dispatcher.free,
          expires: this.settings.fetchExpiresMs,
          idle_heartbeat: this.settings.fetchHeartbeatMs,
        });
        this.batch = batch;
        if (this.dispatcher.stopped) {
          void batch.close().catch(() => undefined);
          return;
        }
        for await (const m of batch) this.onMessage(m);
        failures = 0;
      } catch (err) {
        if (this.dispatcher.stopped || isClosedConnectionError(err)) return;
        failures++;
        this.onError(busError('pull from JetStream failed', err));
        await this.pause(Math.min(MAX_BACKOFF_MS, 100 * 2 ** failures));
      } finally {
        this.batch = undefined;
      }
    }
  }

  private onMessage(m: JsMsg): void {
    let notification;
    try {
      notification = decodeNotification(m.string());
    } catch (err) {
      // Poison: redelivering cannot fix it. (No term reason: nats-server 2.9 only knows bare +TERM.)
      m.term();
      this.onError(
        new NoetlError('BUS_ERROR', `dropped an undecodable notification: ${errorMessage(err)}`, {
          cause: err,
          details: { subject: m.subject, seq: m.seq },
        }),
      );
      return;
    }
    const settler: Settler = {
      ack: () => m.ack(),
      nak: (delayMs) => (delayMs > 0 ? m.nak(delayMs) : m.nak()),
      term: () => m.term(),
      working: () => m.working(),
    };
    this.dispatcher.accept(
      notification,
      new SettleOnceDelivery(settler, m.info.deliveryCount, m.subject, this.onError),
    );
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}
