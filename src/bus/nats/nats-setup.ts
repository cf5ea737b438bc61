import type * as Js from '@nats-io/jetstream';
import type { ResolvedNatsBusOptions } from './nats-options.js';

export type JetStreamModule = typeof Js;

const nanos = (ms: number): number => ms * 1_000_000;

/** The subjects the commands stream must capture: the legacy bare subject and every routed one. */
export function streamSubjects(prefix: string): string[] {
  return [prefix, `${prefix}.>`];
}

/**
 * Creates the commands stream, or widens an existing one to our subjects. Settings that cannot
 * change on a live stream (storage, retention) are reported, not forced.
 */
export async function ensureStream(
  jsm: Js.JetStreamManager,
  mod: JetStreamModule,
  o: ResolvedNatsBusOptions,
): Promise<void> {
  const subjects = streamSubjects(o.subject);
  const existing = await streamInfo(jsm, o.stream);
  if (!existing) {
    try {
      await jsm.streams.add({
        name: o.stream,
        subjects,
        // limits, not workqueue: several consumers (a pool's and an all-pools one) may read
        // the same subject, which workqueue retention forbids.
        retention: mod.RetentionPolicy.Limits,
        storage: o.storage === 'memory' ? mod.StorageType.Memory : mod.StorageType.File,
        max_age: nanos(o.maxAgeMs),
        duplicate_window: nanos(o.duplicateWindowMs),
        discard: mod.DiscardPolicy.Old,
      });
      return;
    } catch (err) {
      // another process created it meanwhile: fall through and check its subjects
      if (!(await streamInfo(jsm, o.stream))) throw err;
    }
  }
  const info = existing ?? (await streamInfo(jsm, o.stream));
  if (!info) return;
  const have = info.config.subjects ?? [];
  const missing = subjects.filter((s) => !have.includes(s));
  if (missing.length > 0)
    await jsm.streams.update(o.stream, { ...info.config, subjects: [...have, ...missing] });
  if (info.config.retention !== mod.RetentionPolicy.Limits) {
    o.logger.warn(
      { stream: o.stream, retention: info.config.retention },
      'commands stream does not use limits retention; a second consumer on the same subjects will fail',
    );
  }
}

/** Durable name of the consumer a subscription competes on. */
export function consumerName(o: ResolvedNatsBusOptions, pool: string | undefined): string {
  return pool === undefined ? o.consumer : `${o.consumer}_${pool}`;
}

/**
 * Creates the durable pull consumer, or brings its tunable limits in line. Returns its name.
 *
 * deliver_policy is `all`, not NoETL's `new`: a durable consumer keeps its position once
 * created, so the policy only decides what a *newly created* consumer sees. With `new`, commands
 * published before the first worker ever subscribed (server up first, or a consumer deleted and
 * recreated) would be skipped for good; with `all` they are delivered, and any already handled
 * are answered 409 by the claim and acked. Nothing is lost; a duplicate costs one claim.
 */
export async function ensureConsumer(
  jsm: Js.JetStreamManager,
  mod: JetStreamModule,
  o: ResolvedNatsBusOptions,
  pool: string | undefined,
): Promise<string> {
  const name = consumerName(o, pool);
  const wanted = {
    ack_wait: nanos(o.ackWaitMs),
    max_deliver: o.maxDeliver,
    max_ack_pending: o.maxAckPending,
  };
  const existing = await consumerInfo(jsm, o.stream, name);
  if (!existing) {
    try {
      await jsm.consumers.add(o.stream, {
        durable_name: name,
        ack_policy: mod.AckPolicy.Explicit,
        deliver_policy: mod.DeliverPolicy.All,
        replay_policy: mod.ReplayPolicy.Instant,
        ...wanted,
        ...(pool === undefined ? {} : { filter_subject: `${o.subject}.${pool}.>` }),
      });
      return name;
    } catch (err) {
      if (!(await consumerInfo(jsm, o.stream, name))) throw err;
      return name; // created concurrently by another worker
    }
  }
  const c = existing.config;
  if (
    c.ack_wait !== wanted.ack_wait ||
    c.max_deliver !== wanted.max_deliver ||
    c.max_ack_pending !== wanted.max_ack_pending
  ) {
    await jsm.consumers.update(o.stream, name, wanted);
  }
  return name;
}

async function streamInfo(jsm: Js.JetStreamManager, stream: string): Promise<Js.StreamInfo | undefined> {
  try {
    return await jsm.streams.info(stream);
  } catch (err) {
    if (err instanceof Error && err.name === 'StreamNotFoundError') return undefined;
    throw err;
  }
}

async function consumerInfo(
  jsm: Js.JetStreamManager,
  stream: string,
  name: string,
): Promise<Js.ConsumerInfo | undefined> {
  try {
    return await jsm.consumers.info(stream, name);
  } catch (err) {
    if (err instanceof Error && err.name === 'ConsumerNotFoundError') return undefined;
    throw err;
  }
}
