import type { JsMsg } from '@nats-io/jetstream';
import { configError, optNumber, optString, pick, reqString, typeName } from '../config-helpers.js';
import { applyToolAuth, authAlias } from '../credentials.js';
import { decodePayload } from '../nats/codec.js';
import { readNatsConfig } from '../nats/config.js';
import { withNatsSession, type NatsSession } from '../nats/connection.js';
import { isNotFoundError, missingError, natsError } from '../nats/errors.js';
import type { ToolContext, ToolDefinition, ToolOutput } from '../types.js';

/**
 * NoETL's `subscription` tool (docs/triggers.md, "Bounded drain"): a playbook step pulls up to
 * `batch` messages from a JetStream durable consumer within `timeout_ms`, acknowledges them as
 * `ack` says, and returns them as its result (`count`, `messages`, `acked`...). It never holds a
 * worker slot longer than the timeout and never creates or changes the consumer. `source: nats`
 * only: NoETL's pubsub and kafka backends are not in this build.
 */

const KIND = 'subscription';

export const POLL_BATCH_DEFAULT = 100;
export const POLL_BATCH_MAX = 1_000;
export const POLL_TIMEOUT_DEFAULT_MS = 1_000;
export const POLL_TIMEOUT_MAX_MS = 5_000;
/** The client refuses pull requests that expire sooner; shorter waits are cut by a timer. */
const MIN_PULL_EXPIRES_MS = 1_000;

/** When a poll acknowledges what it fetched (NoETL's `ack`). */
export type AckMode = 'on_success' | 'auto' | 'manual' | 'defer' | 'none';

export function ackMode(value: unknown): AckMode {
  if (value === undefined || value === null || value === true) return 'on_success';
  if (value === false) return 'manual';
  if (typeof value === 'string') {
    switch (value.trim().toLowerCase()) {
      case 'on_success':
        return 'on_success';
      case 'auto':
      case 'true':
        return 'auto';
      case 'manual':
      case 'false':
        return 'manual';
      case 'defer':
      case 'deferred':
        return 'defer';
      case 'none':
      case 'peek':
        return 'none';
    }
  }
  throw configError(
    KIND,
    `'ack' must be a boolean or one of on_success, auto, manual, defer, none; got ${typeof value === 'string' ? `'${value}'` : typeName(value)}`,
  );
}

/** A whole number clamped into [min, max] (NoETL clamps rather than refuses). */
function clamped(
  config: Readonly<Record<string, unknown>>,
  key: string,
  fallback: number,
  min: number,
  max: number,
) {
  const n = optNumber(KIND, config, key);
  return n === undefined ? fallback : Math.min(max, Math.max(min, Math.floor(n)));
}

function headersOf(m: JsMsg): { headers: Record<string, unknown>; attributes: Record<string, unknown> } {
  const headers: Record<string, unknown> = {};
  const attributes: Record<string, unknown> = {};
  if (!m.headers) return { headers, attributes };
  for (const key of m.headers.keys()) {
    const values = m.headers.values(key);
    const value = values.length === 1 ? values[0] : values;
    attributes[key] = value;
    headers[key.toLowerCase()] = value;
  }
  return { headers, attributes };
}

/** One message in NoETL's normalised shape (`id` is the stream sequence). */
function polled(m: JsMsg, ackId: string | undefined): Record<string, unknown> {
  return {
    id: String(m.info.streamSequence),
    data: decodePayload(m.data, 'utf-8', true),
    ...headersOf(m),
    metadata: {
      subject: m.subject,
      stream_seq: m.info.streamSequence,
      consumer_seq: m.info.deliverySequence,
      delivered: m.info.deliveryCount,
      pending: m.info.pending,
    },
    ...(ackId !== undefined ? { ack_id: ackId } : {}),
  };
}

async function poll(
  s: NatsSession,
  config: Readonly<Record<string, unknown>>,
  stream: string,
  consumerName: string,
): Promise<Record<string, unknown>> {
  const batch = clamped(config, 'batch', POLL_BATCH_DEFAULT, 1, POLL_BATCH_MAX);
  const timeoutMs = clamped(config, 'timeout_ms', POLL_TIMEOUT_DEFAULT_MS, 0, POLL_TIMEOUT_MAX_MS);
  const ack = ackMode(pick(config, 'ack'));
  const consumer = await s.js.consumers.get(stream, consumerName);
  const iter = await consumer.fetch({
    max_messages: batch,
    expires: Math.max(timeoutMs, MIN_PULL_EXPIRES_MS),
  });
  const stop = (): void => iter.stop();
  const timer = setTimeout(stop, timeoutMs);
  s.signal.addEventListener('abort', stop, { once: true });
  const doAck = ack === 'on_success' || ack === 'auto';
  const messages: Record<string, unknown>[] = [];
  const ackIds: string[] = [];
  try {
    for await (const m of iter) {
      let ackId: string | undefined;
      if (ack === 'defer') {
        // the message's $JS.ACK reply subject: any connection may settle it later (operation: ack)
        ackId = (m as JsMsg & { readonly reply?: string }).reply;
        if (typeof ackId !== 'string' || !ackId.startsWith('$JS.ACK.')) {
          throw configError(
            KIND,
            `ack: defer needs an ack subject on every message (an explicit-ack consumer); message ${m.info.streamSequence} has none`,
          );
        }
        ackIds.push(ackId);
      }
      messages.push(polled(m, ackId));
      if (doAck) m.ack();
    }
  } finally {
    clearTimeout(timer);
    s.signal.removeEventListener('abort', stop);
  }
  // Acks are fire-and-forget publishes; a flush round trip makes sure the server has them.
  if (doAck && messages.length > 0) await s.nc.flush();
  return {
    status: 'success',
    source: 'nats',
    operation: 'poll',
    count: messages.length,
    messages,
    acked: doAck,
    ack_mode: ack,
    ack_ids: ackIds,
    metrics: { noetl_subscription_messages_fetched_total: messages.length, source: 'nats' },
  };
}

/** `ack`, `nack` (`nak`) or `term` the `ack_ids` a `defer` poll returned. */
async function settle(
  s: NatsSession,
  config: Readonly<Record<string, unknown>>,
  operation: 'ack' | 'nack' | 'term',
): Promise<Record<string, unknown>> {
  const raw = pick(config, 'ack_ids') ?? [];
  if (!Array.isArray(raw) || raw.some((id) => typeof id !== 'string')) {
    throw configError(KIND, `'ack_ids' must be a list of the ack_id strings a 'defer' poll returned`);
  }
  const ids = raw as string[];
  // Only JetStream ack subjects: the tool never publishes anywhere else.
  const bad = ids.find((id) => !/^\$JS\.ACK\.[A-Za-z0-9_.-]+$/.test(id));
  if (bad !== undefined) throw configError(KIND, `'${bad.slice(0, 100)}' is not a JetStream ack id`);
  const delay = optNumber(KIND, config, 'nack_delay_ms');
  const body =
    operation === 'ack'
      ? ''
      : operation === 'term'
        ? '+TERM'
        : delay !== undefined && delay > 0
          ? `-NAK ${JSON.stringify({ delay: Math.round(delay) * 1_000_000 })}`
          : '-NAK';
  const errors: string[] = [];
  let disposed = 0;
  for (const id of ids) {
    try {
      s.nc.publish(id, body);
      disposed++;
    } catch (err) {
      errors.push(`${id}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  if (ids.length > 0) await s.nc.flush();
  return {
    status: errors.length === 0 ? 'success' : 'partial',
    source: 'nats',
    operation,
    requested: ids.length,
    disposed,
    errors,
    metrics: { noetl_subscription_messages_disposed_total: disposed, source: 'nats' },
  };
}

function operationOf(config: Readonly<Record<string, unknown>>): 'poll' | 'ack' | 'nack' | 'term' {
  const op = (optString(KIND, config, 'operation') ?? 'poll').trim().toLowerCase();
  if (op === 'poll' || op === 'ack' || op === 'nack' || op === 'term') return op;
  if (op === 'nak') return 'nack';
  throw configError(KIND, `unsupported operation '${op}' (supported: poll, ack, nack, term)`);
}

async function executeSubscription(
  ctx: ToolContext,
  rawConfig: Readonly<Record<string, unknown>>,
): Promise<ToolOutput> {
  const source = reqString(KIND, rawConfig, 'source').trim().toLowerCase();
  if (source !== 'nats') {
    throw configError(
      KIND,
      `source '${source}' is not available in this build (available: nats; NoETL's pubsub and kafka backends are not included)`,
    );
  }
  const operation = operationOf(rawConfig);
  const config =
    authAlias(rawConfig) !== undefined
      ? await applyToolAuth('nats', rawConfig, ctx.services, ctx.signal)
      : rawConfig;
  // The connection fields are the nats tool's (url, user, password, token, creds, timeout).
  const nats = readNatsConfig({ ...config, operation: 'js_consume' }, ctx.services.env ?? {});
  const stream = operation === 'poll' ? reqString(KIND, config, 'stream') : '';
  const consumer = operation === 'poll' ? reqString(KIND, config, 'consumer') : '';
  const data = await withNatsSession(nats.connection, nats.timeoutMs, ctx.signal, async (s) => {
    if (operation !== 'poll') return settle(s, config, operation);
    try {
      return await poll(s, config, stream, consumer);
    } catch (err) {
      if (isNotFoundError(err, 'stream')) throw missingError(`stream '${stream}'`, { stream });
      if (isNotFoundError(err, 'consumer'))
        throw missingError(`consumer '${consumer}' on stream '${stream}'`, { stream });
      throw natsError(`subscription poll of '${stream}'/'${consumer}'`, err, { stream });
    }
  });
  return { data };
}

export const subscriptionTool: ToolDefinition = {
  kind: KIND,
  description:
    'Bounded drain of a NATS JetStream durable consumer (`source: nats`, `batch`, `timeout_ms`, `ack`); the messages are the result.',
  authTarget: 'nats',
  execute: executeSubscription,
};
