import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { NoetlError } from '../../shared/index.js';
import { encodeNotification } from '../notification.js';
import type {
  BusCapabilities,
  CommandBus,
  CommandHandler,
  CommandNotification,
  PublishOptions,
  PublishReceipt,
  StopOptions,
  SubscribeOptions,
  Subscription,
  SubscriptionFilter,
} from '../ports.js';
import { checkPool, subjectFor } from '../subject.js';
import { busError, isRetryableNatsError } from './nats-errors.js';
import { resolveNatsOptions } from './nats-options.js';
import type { NatsBusOptions, ResolvedNatsBusOptions } from './nats-options.js';
import { ensureConsumer, ensureStream } from './nats-setup.js';
import type { JetStreamModule } from './nats-setup.js';
import { NatsSubscription } from './nats-subscription.js';

const CAPABILITIES: BusCapabilities = {
  durable: true,
  crossProcess: true,
  dedupOnCommandId: true,
  withdraw: true,
};

/** Per-attempt wait for a publish ack; attempts repeat (same msgID, so no duplicate) until the deadline. */
const PUBLISH_ATTEMPT_MS = 2_000;

/**
 * JetStream adapter. One connection per bus, reconnecting forever (a nats-server restart is an
 * outage to ride out, not an error); the stream is ensured on connect, a durable pull consumer
 * per subscribed pool on subscribe.
 */
export class NatsBus implements CommandBus {
  readonly capabilities = CAPABILITIES;
  /** Resolves once the connection is closed for good (after `close()`). */
  readonly closed: Promise<void>;
  private readonly subscriptions = new Set<NatsSubscription>();
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
    private readonly js: JetStreamClient,
    private readonly mod: JetStreamModule,
    private readonly o: ResolvedNatsBusOptions,
  ) {
    this.closed = nc.closed().then(() => undefined);
    void this.watchStatus();
  }

  /** Connects (the NATS client is loaded here, not at import) and ensures the stream. */
  static async connect(options: NatsBusOptions = {}): Promise<NatsBus> {
    const o = resolveNatsOptions(options);
    const [transport, mod] = await Promise.all([
      import('@nats-io/transport-node'),
      import('@nats-io/jetstream'),
    ]);
    let nc: NatsConnection;
    try {
      nc = await transport.connect({
        servers: o.servers,
        name: o.name,
        maxReconnectAttempts: -1,
        reconnectTimeWait: o.reconnectWaitMs,
        waitOnFirstConnect: false,
        ...(o.user === undefined ? {} : { user: o.user }),
        ...(o.password === undefined ? {} : { pass: o.password }),
        ...(o.token === undefined ? {} : { token: o.token }),
      });
    } catch (err) {
      throw busError(`cannot connect to NATS at ${o.servers.join(',')}`, err, { servers: o.servers });
    }
    try {
      const jsm = await mod.jetstreamManager(nc);
      await ensureStream(jsm, mod, o);
      return new NatsBus(nc, jsm, mod.jetstream(nc), mod, o);
    } catch (err) {
      await nc.close().catch(() => undefined);
      throw busError(`cannot set up JetStream stream '${o.stream}'`, err, { stream: o.stream });
    }
  }

  get connected(): boolean {
    return !this.nc.isClosed();
  }

  get isClosed(): boolean {
    return this.nc.isClosed();
  }

  async publish(notification: CommandNotification, options: PublishOptions = {}): Promise<PublishReceipt> {
    if (this.closing) throw new NoetlError('BUS_ERROR', 'bus is closed');
    const payload = encodeNotification(notification);
    const subject = subjectFor(notification, this.o.subject);
    const deadline = Date.now() + this.o.publishTimeoutMs;
    for (let attempt = 0; ; attempt++) {
      const left = deadline - Date.now();
      try {
        // msgID = command_id (or the caller's dedupId): a retried publish within the duplicate
        // window is stored once.
        const ack = await this.js.publish(subject, payload, {
          msgID: options.dedupId ?? notification.command_id,
          timeout: Math.max(100, Math.min(PUBLISH_ATTEMPT_MS, left)),
        });
        return { seq: ack.seq };
      } catch (err) {
        const pause = Math.min(1_000, 50 * 2 ** attempt);
        if (this.closing || !isRetryableNatsError(err) || Date.now() + pause >= deadline) {
          throw busError(`publish to '${subject}' failed`, err, {
            subject,
            command_id: notification.command_id,
          });
        }
        await new Promise((resolve) => setTimeout(resolve, pause));
      }
    }
  }

  /**
   * Deletes the notification from the stream (no erase: a delete marker, not a rewrite), so no
   * consumer delivers it from now on; a consumer that already did keeps its copy.
   */
  async withdraw(receipt: PublishReceipt): Promise<void> {
    if (this.closing) return;
    try {
      await this.jsm.streams.deleteMessage(this.o.stream, receipt.seq, false);
    } catch (err) {
      // gone already (delivered and aged out, or purged): nothing left to withdraw
      this.o.logger.debug({ err: String(err), seq: receipt.seq }, 'withdraw found nothing to delete');
    }
  }

  async subscribe(
    filter: SubscriptionFilter,
    handler: CommandHandler,
    options: SubscribeOptions,
  ): Promise<Subscription> {
    if (this.closing) throw new NoetlError('BUS_ERROR', 'bus is closed');
    const pool = filter.pool === undefined ? undefined : checkPool(filter.pool);
    let name: string;
    try {
      name = await ensureConsumer(this.jsm, this.mod, this.o, pool);
    } catch (err) {
      throw busError(`cannot set up consumer on stream '${this.o.stream}'`, err, { pool });
    }
    const consumer = await this.js.consumers.get(this.o.stream, name).catch((err: unknown) => {
      throw busError(`cannot open consumer '${name}'`, err, { consumer: name });
    });
    const onError =
      options.onError ??
      ((error: Error) => this.o.logger.error({ err: error, consumer: name }, error.message));
    const sub = new NatsSubscription(
      consumer,
      handler,
      options,
      { fetchExpiresMs: this.o.fetchExpiresMs, fetchHeartbeatMs: this.o.fetchHeartbeatMs },
      onError,
      (s) => this.subscriptions.delete(s),
    );
    this.subscriptions.add(sub);
    sub.start();
    return sub;
  }

  close(options: StopOptions = {}): Promise<void> {
    this.closing ??= (async () => {
      await Promise.all([...this.subscriptions].map((s) => s.stop(options)));
      this.subscriptions.clear();
      if (!this.nc.isClosed()) {
        // Push out the last acks; do not wait on a server that is down.
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          this.nc.flush().catch(() => undefined),
          new Promise((resolve) => (timer = setTimeout(resolve, 1_000))),
        ]);
        clearTimeout(timer);
        await this.nc.close().catch(() => undefined);
      }
      await this.closed;
    })();
    return this.closing;
  }

  private async watchStatus(): Promise<void> {
    const log = this.o.logger;
    for await (const s of this.nc.status()) {
      if (s.type === 'disconnect') log.warn({ server: s.server }, 'NATS disconnected; reconnecting');
      else if (s.type === 'reconnect') log.info({ server: s.server }, 'NATS reconnected');
      else if (s.type === 'error') log.error({ err: s.error }, 'NATS connection error');
    }
  }
}
