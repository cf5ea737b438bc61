import type { ConfigReader } from './sources.js';

/**
 * JetStream settings, with the field names of the bus's `NatsBusOptions` so they can be spread
 * into `NatsBus.connect(...)`. Defaults are filled here (the table in env-vars.ts shows them);
 * a test keeps them equal to the bus's `NATS_DEFAULTS`.
 */
export interface NatsSettings {
  readonly url: string;
  readonly user?: string;
  readonly password?: string;
  readonly token?: string;
  readonly stream: string;
  readonly subject: string;
  readonly consumer: string;
  readonly ackWaitMs: number;
  readonly fetchExpiresMs: number;
  readonly fetchHeartbeatMs: number;
  readonly maxAckPending: number;
  readonly maxDeliver: number;
}

const NAME_RE = /^[A-Za-z0-9_-]+$/;
const SUBJECT_RE = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

/** NATS settings when `NATS_URL` is set, else undefined (in-process bus). */
export function readNatsSettings(read: ConfigReader): NatsSettings | undefined {
  const url = read.string('NATS_URL');
  if (url === undefined) return undefined;
  const stream = read.stringOr('NATS_STREAM', 'noetl_commands');
  const consumer = read.stringOr('NATS_CONSUMER', 'worker-pool');
  const subject = read.stringOr('NATS_SUBJECT', 'noetl.commands');
  if (!NAME_RE.test(stream)) read.fail('NATS_STREAM', 'may hold only A-Z a-z 0-9 _ -');
  if (!NAME_RE.test(consumer)) read.fail('NATS_CONSUMER', 'may hold only A-Z a-z 0-9 _ -');
  if (!SUBJECT_RE.test(subject)) read.fail('NATS_SUBJECT', 'must be a plain subject like noetl.commands');
  const fetchExpiresMs = Math.round(read.seconds('NOETL_WORKER_NATS_FETCH_TIMEOUT_SECONDS', 30) * 1000);
  if (fetchExpiresMs < 1000) read.fail('NOETL_WORKER_NATS_FETCH_TIMEOUT_SECONDS', 'must be at least 1');
  const user = read.string('NATS_USER');
  const password = read.string('NATS_PASSWORD');
  const token = read.string('NATS_TOKEN');
  return {
    url,
    ...(user === undefined ? {} : { user }),
    ...(password === undefined ? {} : { password }),
    ...(token === undefined ? {} : { token }),
    stream,
    subject,
    consumer,
    ackWaitMs: Math.round(read.seconds('NOETL_WORKER_NATS_ACK_WAIT_SECONDS', 60) * 1000),
    fetchExpiresMs,
    fetchHeartbeatMs: Math.round(read.seconds('NOETL_WORKER_NATS_FETCH_HEARTBEAT_SECONDS', 5) * 1000),
    maxAckPending: read.int('NOETL_WORKER_NATS_MAX_ACK_PENDING', 64, { min: 1 }),
    maxDeliver: read.int('NOETL_WORKER_NATS_MAX_DELIVER', 1000, { min: 1 }),
  };
}
