import type { JsMsg, StoredMsg, StreamInfo } from '@nats-io/jetstream';
import { configError, optBoolean, optMap, optNumber, optString, pick, reqString } from '../config-helpers.js';
import { decodePayload, encodePayload, fromHeaders, toHeaders } from './codec.js';
import { NATS_KIND, type NatsConfig } from './config.js';
import type { NatsSession } from './connection.js';
import { isNotFoundError, missingError, natsError } from './errors.js';

type JsOperation = 'js_publish' | 'js_consume' | 'js_get_msg' | 'js_stream_info';

/** js_consume holds a worker slot only briefly: at most this many messages and this long. */
export const JS_CONSUME_BATCH_DEFAULT = 100;
export const JS_CONSUME_BATCH_MAX = 1000;
export const JS_CONSUME_TIMEOUT_DEFAULT_MS = 1_000;
export const JS_CONSUME_TIMEOUT_MAX_MS = 5_000;
/** The client refuses pull requests that expire sooner; shorter waits are cut by a timer. */
const MIN_PULL_EXPIRES_MS = 1_000;

const nanosToMs = (nanos: number | undefined): number => Math.round((nanos ?? 0) / 1e6);

async function publish(s: NatsSession, cfg: NatsConfig): Promise<Record<string, unknown>> {
  const subject = reqString(NATS_KIND, cfg.fields, 'subject');
  const stream = optString(NATS_KIND, cfg.fields, 'stream');
  const payload = encodePayload(pick(cfg.fields, 'data', 'value', 'message'), cfg.encoding, 'data');
  const headers = toHeaders(s.mods, optMap(NATS_KIND, cfg.fields, 'headers'));
  try {
    const ack = await s.js.publish(subject, payload, {
      ...(headers ? { headers } : {}),
      ...(stream !== undefined ? { expect: { streamName: stream } } : {}),
      timeout: s.timeoutMs,
    });
    return { status: 'success', stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate, subject };
  } catch (err) {
    // No responder on a JetStream publish means no stream captures the subject.
    if (err instanceof Error && /NoResponders|JetStreamNotEnabled/.test(err.name)) {
      throw missingError(`a JetStream stream for subject '${subject}'`, { subject });
    }
    throw err;
  }
}

function storedMessage(stream: string, msg: StoredMsg, cfg: NatsConfig): Record<string, unknown> {
  return {
    status: 'success',
    found: true,
    stream,
    subject: msg.subject,
    seq: msg.seq,
    time: msg.time.toISOString(),
    data: decodePayload(msg.data, cfg.encoding, true),
    headers: fromHeaders(msg.header),
  };
}

async function getMessage(s: NatsSession, cfg: NatsConfig, stream: string): Promise<Record<string, unknown>> {
  const seq = optNumber(NATS_KIND, cfg.fields, 'seq', 'sequence');
  const subject = optString(NATS_KIND, cfg.fields, 'subject');
  const last = optBoolean(NATS_KIND, cfg.fields, 'last') ?? false;
  let msg: StoredMsg | null;
  if (seq !== undefined) {
    if (!Number.isInteger(seq) || seq < 1) throw configError(NATS_KIND, `'seq' must be a positive integer`);
    msg = await s.jsm.streams.getMessage(stream, { seq });
  } else if (subject !== undefined && subject !== '') {
    msg = await s.jsm.streams.getMessage(stream, { last_by_subj: subject });
  } else if (last) {
    const lastSeq = (await s.jsm.streams.info(stream)).state.last_seq;
    msg = lastSeq > 0 ? await s.jsm.streams.getMessage(stream, { seq: lastSeq }) : null;
  } else {
    throw configError(NATS_KIND, "js_get_msg needs 'seq', 'subject' (its last message) or 'last: true'");
  }
  if (!msg) {
    return {
      status: 'not_found',
      found: false,
      stream,
      subject: subject ?? null,
      seq: seq ?? null,
      data: null,
      headers: {},
    };
  }
  return storedMessage(stream, msg, cfg);
}

function streamInfo(info: StreamInfo): Record<string, unknown> {
  const c = info.config;
  return {
    status: 'success',
    stream: c.name,
    created: info.created,
    config: {
      name: c.name,
      description: c.description ?? null,
      subjects: c.subjects ?? [],
      retention: c.retention,
      storage: c.storage,
      discard: c.discard,
      max_msgs: c.max_msgs,
      max_bytes: c.max_bytes,
      max_age_ms: nanosToMs(c.max_age),
      max_msg_size: c.max_msg_size,
      num_replicas: c.num_replicas,
      duplicate_window_ms: nanosToMs(c.duplicate_window),
    },
    state: {
      messages: info.state.messages,
      bytes: info.state.bytes,
      first_seq: info.state.first_seq,
      last_seq: info.state.last_seq,
      first_ts: info.state.first_ts,
      last_ts: info.state.last_ts,
      consumer_count: info.state.consumer_count,
    },
  };
}

function clamp(value: number | undefined, fallback: number, max: number, key: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 1) throw configError(NATS_KIND, `'${key}' must be at least 1`);
  return Math.min(Math.floor(value), max);
}

function consumedMessage(m: JsMsg, cfg: NatsConfig): Record<string, unknown> {
  return {
    subject: m.subject,
    seq: m.seq,
    stream_seq: m.info.streamSequence,
    consumer_seq: m.info.deliverySequence,
    delivered: m.info.deliveryCount,
    pending: m.info.pending,
    time: m.time.toISOString(),
    data: decodePayload(m.data, cfg.encoding, true),
    headers: fromHeaders(m.headers),
  };
}

/** A bounded pull from an existing durable consumer: up to `batch` messages within `timeout_ms`. */
async function consume(s: NatsSession, cfg: NatsConfig, stream: string): Promise<Record<string, unknown>> {
  const name = reqString(NATS_KIND, cfg.fields, 'consumer', 'durable');
  const batch = clamp(
    optNumber(NATS_KIND, cfg.fields, 'batch', 'max_messages'),
    JS_CONSUME_BATCH_DEFAULT,
    JS_CONSUME_BATCH_MAX,
    'batch',
  );
  const timeoutMs = clamp(
    optNumber(NATS_KIND, cfg.fields, 'timeout_ms'),
    JS_CONSUME_TIMEOUT_DEFAULT_MS,
    JS_CONSUME_TIMEOUT_MAX_MS,
    'timeout_ms',
  );
  const ack = optBoolean(NATS_KIND, cfg.fields, 'ack') ?? true;
  const consumer = await s.js.consumers.get(stream, name);
  const iter = await consumer.fetch({
    max_messages: batch,
    expires: Math.max(timeoutMs, MIN_PULL_EXPIRES_MS),
  });
  const stop = (): void => iter.stop();
  const timer = setTimeout(stop, timeoutMs);
  s.signal.addEventListener('abort', stop, { once: true });
  const messages: Record<string, unknown>[] = [];
  try {
    for await (const m of iter) {
      messages.push(consumedMessage(m, cfg));
      if (ack) m.ack();
    }
  } finally {
    clearTimeout(timer);
    s.signal.removeEventListener('abort', stop);
  }
  // Acks are fire-and-forget publishes; a flush round trip makes sure the server has them.
  if (ack && messages.length > 0) await s.nc.flush();
  return { status: 'success', stream, consumer: name, count: messages.length, messages, acked: ack };
}

export async function runJetStream(
  op: JsOperation,
  s: NatsSession,
  cfg: NatsConfig,
): Promise<Record<string, unknown>> {
  if (op === 'js_publish') {
    try {
      return await publish(s, cfg);
    } catch (err) {
      throw natsError('js_publish', err);
    }
  }
  const stream = reqString(NATS_KIND, cfg.fields, 'stream');
  try {
    switch (op) {
      case 'js_get_msg':
        return await getMessage(s, cfg, stream);
      case 'js_stream_info':
        return streamInfo(await s.jsm.streams.info(stream));
      case 'js_consume':
        return await consume(s, cfg, stream);
    }
  } catch (err) {
    if (isNotFoundError(err, 'stream')) throw missingError(`stream '${stream}'`, { stream });
    if (isNotFoundError(err, 'consumer')) {
      throw missingError(
        `consumer '${optString(NATS_KIND, cfg.fields, 'consumer') ?? ''}' on stream '${stream}'`,
        {
          stream,
        },
      );
    }
    throw natsError(`${op} on stream '${stream}'`, err, { stream });
  }
}
