import type { Consumer, ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  errorMessage,
  isPlainObject,
  NoetlError,
  type Clock,
  type JsonValue,
  type Logger,
} from '../../shared/index.js';
import type { Store } from '../../store/index.js';
import { credentialFields } from '../../tools/index.js';
import type { SecretCipher } from '../crypto/index.js';
import type { BatchOutcome, ExecuteRequest } from '../orchestrator/orchestrator.js';
import { checkSubscription, type NatsSubscription } from './stream-subscription.js';

/**
 * NATS pull subscriptions (docs/triggers.md): every server replica runs a durable JetStream pull
 * consumer per registered `kind: Subscription` with `spec.source: nats`. Messages are pulled in
 * batches (`runtime.batch`, `runtime.timeout_ms`); each pulled batch starts its executions
 * through one batch execute (one per message, written together) and each message is
 * acknowledged only after its execution is recorded, so a crash redelivers it. The execution's idempotency key (the `x-idempotency-key` header directive, else the
 * message's stream sequence) makes the redelivery start nothing new. Replicas pulling from the
 * same durable consumer share the messages (JetStream hands each to one of them).
 */

export interface NatsConnectionSettings {
  readonly url?: string;
  readonly user?: string;
  readonly password?: string;
  readonly token?: string;
}

export interface NatsListenerDeps {
  readonly store: Store;
  readonly cipher: SecretCipher;
  /** Starts the executions of one pulled batch together (Orchestrator.executeBatch). */
  readonly runner: { executeBatch(reqs: readonly ExecuteRequest[]): Promise<BatchOutcome[]> };
  readonly clock: Clock;
  readonly logger: Logger;
  /** Where a subscription without `auth` (or whose credential has no url) connects. */
  readonly nats?: NatsConnectionSettings;
  /** How often the catalog is read for new, changed or removed subscriptions; default 5 s. */
  readonly refreshMs?: number;
}

const DEFAULT_URL = 'nats://127.0.0.1:4222';
/** How long a stream-sequence key keeps a redelivered message from starting again. */
const SEQUENCE_KEY_WINDOW_MS = 7 * 24 * 3_600_000;
/** Ack wait of a consumer the listener creates: a pull batch is dispatched well within it. */
const CREATED_ACK_WAIT_MS = 30_000;
const RETRY_DELAY_MS = 2_000;
/** A message whose execution is refused (not retryable) is given this many deliveries. */
const MAX_REFUSED_DELIVERIES = 3;
const MAX_BACKOFF_MS = 10_000;

/** The servers of a connection, for messages (their credentials are already taken out). */
function describeServers(servers: readonly string[]): string {
  return servers.join(',');
}

/** One running subscription: a connection, its durable consumer, and the pull loop. */
class Listener {
  private nc: NatsConnection | undefined;
  private batch: ConsumerMessages | undefined;
  private stopped = false;
  private loop: Promise<void> = Promise.resolve();
  private wake: (() => void) | undefined;

  constructor(
    readonly sub: NatsSubscription,
    private readonly deps: NatsListenerDeps,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    void this.batch?.close().catch(() => undefined);
    await this.loop;
    const nc = this.nc;
    this.nc = undefined;
    // drain: the acks of the last batch reach the server before the connection closes
    if (nc && !nc.isClosed()) await nc.drain().catch(() => nc.close().catch(() => undefined));
  }

  private async settings(): Promise<{ servers: string[]; user?: string; pass?: string; token?: string }> {
    const base = this.deps.nats ?? {};
    let url = base.url ?? DEFAULT_URL;
    let user = base.user;
    let pass = base.password;
    let token = base.token;
    if (this.sub.auth !== undefined) {
      const record = await this.deps.store.credentials.get(this.sub.auth);
      if (!record) {
        throw new NoetlError('NOT_FOUND', `credential '${this.sub.auth}' (spec.auth) is not registered`, {
          retryable: true,
        });
      }
      const data = this.deps.cipher.open(record.dataEncrypted);
      const fields = credentialFields('nats', {
        name: record.name,
        type: record.type,
        data: isPlainObject(data) ? data : {},
      });
      const text = (v: unknown): string | undefined =>
        typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : undefined;
      url = text(fields['url']) ?? url;
      user = text(fields['user']);
      pass = text(fields['password']);
      token = text(fields['token']);
    }
    // credentials written into the URL move to their fields, so no log line carries them
    const servers = url
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '')
      .map((s) => {
        let parsed: URL;
        try {
          parsed = new URL(s.includes('://') ? s : `nats://${s}`);
        } catch {
          throw new NoetlError('CONFIG_INVALID', 'the NATS url of this subscription is not a valid URL');
        }
        const u = decodeURIComponent(parsed.username);
        const p = decodeURIComponent(parsed.password);
        if (u && p) {
          user ??= u;
          pass ??= p;
        } else if (u) token ??= u;
        return `${parsed.protocol}//${parsed.host}`;
      });
    return {
      servers,
      ...(user !== undefined ? { user } : {}),
      ...(pass !== undefined ? { pass } : {}),
      ...(token !== undefined ? { token } : {}),
    };
  }

  /** Connects and returns the durable consumer, creating it on the stream when missing. */
  private async open(): Promise<Consumer> {
    const [transport, js] = await Promise.all([
      import('@nats-io/transport-node'),
      import('@nats-io/jetstream'),
    ]);
    if (!this.nc || this.nc.isClosed()) {
      const s = await this.settings();
      try {
        this.nc = await transport.connect({
          ...s,
          name: `noetl-subscription-${this.sub.name}`,
          maxReconnectAttempts: -1,
          reconnectTimeWait: 1_000,
        });
      } catch (err) {
        throw new NoetlError(
          'BUS_ERROR',
          `cannot connect to NATS at ${describeServers(s.servers)}: ${errorMessage(err)}`,
          {
            retryable: true,
          },
        );
      }
    }
    const jsm = await js.jetstreamManager(this.nc);
    const { stream, consumer } = this.sub;
    try {
      await jsm.consumers.info(stream, consumer);
    } catch (err) {
      if (!(err instanceof Error && err.name === 'ConsumerNotFoundError')) throw err;
      try {
        await jsm.consumers.add(stream, {
          durable_name: consumer,
          ack_policy: js.AckPolicy.Explicit,
          deliver_policy: js.DeliverPolicy.All,
          ack_wait: CREATED_ACK_WAIT_MS * 1_000_000,
          max_ack_pending: Math.max(1_000, this.sub.batch * 4),
        });
        this.log.info({ stream, consumer }, 'created the durable consumer of a nats subscription');
      } catch (addErr) {
        // created concurrently by another replica
        await jsm.consumers.info(stream, consumer).catch(() => {
          throw addErr;
        });
      }
    }
    return js.jetstream(this.nc).consumers.get(stream, consumer);
  }

  private async run(): Promise<void> {
    let failures = 0;
    let consumer: Consumer | undefined;
    while (!this.stopped) {
      try {
        consumer ??= await this.open();
        if (this.stopped) return;
        const batch = await consumer.fetch({
          max_messages: this.sub.batch,
          expires: this.sub.timeoutMs,
        });
        this.batch = batch;
        if (this.stopped) void batch.close().catch(() => undefined); // stop() came during the fetch
        const messages: JsMsg[] = [];
        for await (const m of batch) messages.push(m);
        this.batch = undefined;
        // a message fetched while stopping still gets its execution: it was pulled, and is
        // acked only once its execution is recorded (otherwise it is redelivered)
        if (messages.length > 0) await this.dispatch(messages);
        failures = 0;
      } catch (err) {
        this.batch = undefined;
        if (this.stopped) return;
        failures++;
        consumer = undefined;
        this.log.warn(
          { stream: this.sub.stream, consumer: this.sub.consumer, err: errorMessage(err) },
          'nats subscription cannot pull; retrying',
        );
        await this.pause(Math.min(MAX_BACKOFF_MS, 250 * 2 ** failures));
      }
    }
  }

  /**
   * Starts one execution per message with one batch execute, then settles each message by its
   * own outcome: ack once its execution is recorded (or was already: a duplicate), nak a
   * retryable failure for a later redelivery, term a refused message after a few deliveries.
   */
  private async dispatch(messages: readonly JsMsg[]): Promise<void> {
    const outcomes: (BatchOutcome | undefined)[] = [];
    const requests: ExecuteRequest[] = [];
    const positions: number[] = [];
    for (const [i, m] of messages.entries()) {
      try {
        requests.push(this.request(m));
        positions.push(i);
        outcomes.push(undefined);
      } catch (error) {
        outcomes.push({ error });
      }
    }
    if (requests.length > 0) {
      let started: BatchOutcome[];
      try {
        started = await this.deps.runner.executeBatch(requests);
      } catch (error) {
        started = requests.map(() => ({ error }));
      }
      started.forEach((outcome, i) => (outcomes[positions[i]!] = outcome));
    }
    for (const [i, m] of messages.entries()) this.settle(m, outcomes[i]);
  }

  private settle(m: JsMsg, outcome: BatchOutcome | undefined): void {
    const sub = this.sub;
    if (outcome !== undefined && !('error' in outcome)) {
      m.ack();
      if (outcome.status === 'duplicate') {
        this.log.debug(
          { seq: m.seq, execution_id: outcome.execution_id },
          'nats message already started an execution',
        );
      }
      return;
    }
    const err = outcome?.error;
    const retryable = !(err instanceof NoetlError) || err.retryable;
    if (!retryable && m.info.deliveryCount >= MAX_REFUSED_DELIVERIES) {
      m.term();
      this.log.error(
        { stream: sub.stream, seq: m.seq, err: errorMessage(err) },
        'nats message dropped: its execution was refused',
      );
      return;
    }
    m.nak(RETRY_DELAY_MS);
    this.log.warn(
      { stream: sub.stream, seq: m.seq, err: errorMessage(err) },
      'nats message not dispatched; it will be redelivered',
    );
  }

  /** The execute request a message makes: playbook, payload and idempotency key. */
  private request(m: JsMsg): ExecuteRequest {
    const sub = this.sub;
    const headers: Record<string, JsonValue> = {};
    if (m.headers) {
      for (const k of m.headers.keys()) headers[k.toLowerCase()] = m.headers.get(k);
    }
    let playbook = sub.playbook;
    for (const d of sub.directives) {
      const value = headers[d.header];
      if (typeof value !== 'string' || value === '' || d.controls !== 'dispatch.playbook') continue;
      if (!d.allowed?.includes(value)) {
        throw new NoetlError(
          'BAD_REQUEST',
          `${d.header}: '${value.slice(0, 200)}' is not an allowed playbook of this subscription`,
        );
      }
      playbook = value;
    }
    const text = m.string();
    let json: JsonValue | null = null;
    try {
      json = text === '' ? null : (JSON.parse(text) as JsonValue);
    } catch {
      json = null;
    }
    const key = headers[sub.dedup.keyHeader];
    const headerKey = typeof key === 'string' && key !== '' ? key : undefined;
    const message: Record<string, JsonValue> = {
      id: headerKey ?? `${sub.stream}:${m.seq}`,
      json,
      ...(json === null && text !== '' ? { text } : {}),
      headers,
      subject: m.subject,
      stream: sub.stream,
      seq: m.seq,
      delivery_count: m.info.deliveryCount,
      received_at: new Date(this.deps.clock.now()).toISOString(),
    };
    const payload: Record<string, JsonValue> =
      sub.payloadFrom === 'message.json' && isPlainObject(json) ? { ...json } : {};
    payload['message'] = message;
    payload['subscription'] = sub.name;
    return {
      path: playbook,
      payload,
      ...(sub.executionPool !== undefined ? { executionPool: sub.executionPool } : {}),
      ...(headerKey !== undefined
        ? { dedupKey: `subscription:${sub.path}:${headerKey}`, dedupWindowMs: sub.dedup.windowSecs * 1000 }
        : {
            dedupKey: `nats:${sub.stream}:${sub.consumer}:${m.seq}`,
            dedupWindowMs: SEQUENCE_KEY_WINDOW_MS,
          }),
    };
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

/** Runs a listener per registered nats subscription, following the catalog. */
export class NatsListeners {
  private readonly running = new Map<string, Listener>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private refreshing: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(private readonly deps: NatsListenerDeps) {}

  /** Subscriptions being served, by catalog path. */
  get paths(): string[] {
    return [...this.running.keys()];
  }

  start(): void {
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.refreshing;
    const all = [...this.running.values()];
    this.running.clear();
    await Promise.all(all.map((l) => l.stop()));
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.refreshing = this.refresh()
        .catch((err: unknown) =>
          this.deps.logger.warn({ err: errorMessage(err) }, 'cannot read nats subscriptions'),
        )
        .finally(() => this.schedule(this.deps.refreshMs ?? 5_000));
    }, ms);
    this.timer.unref?.();
  }

  /** Reads the catalog: starts new subscriptions, restarts changed ones, stops removed ones. */
  async refresh(): Promise<void> {
    const entries = await this.deps.store.catalog.list({ kind: 'subscription', limit: 10_000 });
    const newest = new Map<string, (typeof entries)[number]>();
    for (const e of entries) {
      const seen = newest.get(e.path);
      if (!seen || e.version > seen.version) newest.set(e.path, e);
    }
    const wanted = new Map<string, NatsSubscription>();
    for (const e of newest.values()) {
      try {
        const { nats } = checkSubscription(e.path, e.version, e.content ?? '');
        if (nats) wanted.set(e.path, nats);
      } catch (err) {
        if (!this.running.has(e.path) || this.running.get(e.path)!.sub.version !== e.version)
          this.deps.logger.warn({ subscription: e.path, err: errorMessage(err) }, 'subscription not served');
      }
    }
    if (this.stopped) return;
    for (const [path, listener] of this.running) {
      const next = wanted.get(path);
      if (next && next.version === listener.sub.version) continue;
      this.running.delete(path);
      await listener.stop();
      this.deps.logger.info({ subscription: path }, 'nats subscription stopped');
    }
    for (const [path, sub] of wanted) {
      if (this.running.has(path) || this.stopped) continue;
      const listener = new Listener(sub, this.deps, this.deps.logger.child({ subscription: path }));
      this.running.set(path, listener);
      listener.start();
      this.deps.logger.info(
        { subscription: path, stream: sub.stream, consumer: sub.consumer, playbook: sub.playbook },
        'nats subscription listening',
      );
    }
  }
}
