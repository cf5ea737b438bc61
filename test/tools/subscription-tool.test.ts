/**
 * NoETL's `subscription` tool (bounded drain) against the NATS JetStream on 127.0.0.1:4222:
 * a poll returns up to `batch` messages in NoETL's shape and acks them (on_success), leaves
 * them pending (manual), or hands back ack ids that a later `ack`/`nack`/`term` settles (defer).
 * Streams have unique names and are deleted afterwards.
 */
import { randomBytes } from 'node:crypto';
import { AckPolicy, jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { templates } from '../../src/template/index.js';
import type { ToolContext } from '../../src/tools/index.js';
import { closeNatsConnections } from '../../src/tools/nats/index.js';
import { defaultRegistry } from '../../src/tools/registry.js';

const NATS_URL = 'nats://127.0.0.1:4222';
const streams: string[] = [];
let nc: NatsConnection;
let jsm: JetStreamManager;

const ctx = (): ToolContext => ({
  executionId: 'e1',
  step: 'drain',
  commandId: 'c1',
  label: 'drain',
  attempt: 1,
  signal: new AbortController().signal,
  templates: templates(),
  services: {},
});

const tool = defaultRegistry().get('subscription');
const run = async (config: Record<string, unknown>): Promise<Record<string, unknown>> =>
  (await tool.execute(ctx(), { source: 'nats', url: NATS_URL, ...config })).data as Record<string, unknown>;
const fails = (config: Record<string, unknown>): Promise<unknown> =>
  tool.execute(ctx(), { source: 'nats', url: NATS_URL, ...config }).then(
    () => new Error('expected a failure'),
    (err: unknown) => err,
  );

/** A fresh stream with `n` JSON messages and a durable explicit-ack consumer `drain`. */
async function streamWith(n: number, ackWaitMs = 30_000): Promise<string> {
  const stream = `SUBTOOL_${randomBytes(4).toString('hex')}`;
  streams.push(stream);
  await jsm.streams.add({ name: stream, subjects: [`${stream}.>`] });
  await jsm.consumers.add(stream, {
    durable_name: 'drain',
    ack_policy: AckPolicy.Explicit,
    ack_wait: ackWaitMs * 1_000_000,
  });
  const js = jetstream(nc);
  for (let i = 0; i < n; i++) {
    const h = headers();
    h.set('X-Order-Id', `o-${i}`);
    await js.publish(`${stream}.orders`, JSON.stringify({ n: i }), { headers: h });
  }
  return stream;
}

const consumer = (stream: string) => jsm.consumers.info(stream, 'drain');

beforeAll(async () => {
  nc = await connect({ servers: NATS_URL });
  jsm = await jetstreamManager(nc);
});

afterAll(async () => {
  await closeNatsConnections();
  for (const s of streams) await jsm.streams.delete(s).catch(() => undefined);
  await nc?.close();
});

describe('subscription tool (source: nats)', () => {
  it('drains up to batch messages, acks them, and returns them in NoETL shape', async () => {
    const stream = await streamWith(5);
    const first = await run({ stream, consumer: 'drain', batch: 3, timeout_ms: 2000, ack: 'on_success' });
    expect(first).toMatchObject({
      status: 'success',
      source: 'nats',
      operation: 'poll',
      count: 3,
      acked: true,
      ack_mode: 'on_success',
      ack_ids: [],
      metrics: { noetl_subscription_messages_fetched_total: 3, source: 'nats' },
    });
    const messages = first['messages'] as Record<string, unknown>[];
    expect(messages[0]).toEqual({
      id: '1',
      data: { n: 0 },
      headers: { 'x-order-id': 'o-0' },
      attributes: { 'X-Order-Id': 'o-0' },
      metadata: { subject: `${stream}.orders`, stream_seq: 1, consumer_seq: 1, delivered: 1, pending: 4 },
    });
    expect(messages.map((m) => m['id'])).toEqual(['1', '2', '3']);
    expect((await consumer(stream)).num_ack_pending).toBe(0);
    const rest = await run({ stream, consumer: 'drain', batch: '10', timeout_ms: '1500' });
    expect(rest['count']).toBe(2);
    const started = Date.now();
    const empty = await run({ stream, consumer: 'drain', timeout_ms: 300 });
    expect(empty).toMatchObject({ count: 0, messages: [] });
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('leaves messages pending with ack: manual (and false), to come back after the ack wait', async () => {
    const stream = await streamWith(2, 1_000);
    const polled = await run({ stream, consumer: 'drain', ack: false, batch: 2, timeout_ms: 1500 });
    expect(polled).toMatchObject({ count: 2, acked: false, ack_mode: 'manual', ack_ids: [] });
    expect((await consumer(stream)).num_ack_pending).toBe(2);
    // unacked: redelivered once the consumer's ack wait (1 s) has passed
    const deadline = Date.now() + 10_000;
    let again: Record<string, unknown> = {};
    while (Date.now() < deadline) {
      again = await run({ stream, consumer: 'drain', ack: 'auto', batch: 2, timeout_ms: 1000 });
      if (again['count'] === 2) break;
    }
    expect(again).toMatchObject({ count: 2, acked: true });
    // At least the second delivery: a poll of the loop above whose pull expired while JetStream was
    // sending the redelivery leaves it unacked, and it comes back once more (seen under CI load).
    expect(
      (again['messages'] as { metadata: { delivered: number } }[])[0]!.metadata.delivered,
    ).toBeGreaterThanOrEqual(2);
  });

  it('defers the ack: ack ids settle the messages later (ack, nack, term)', async () => {
    const stream = await streamWith(3);
    const polled = await run({ stream, consumer: 'drain', ack: 'defer', timeout_ms: 1500 });
    expect(polled).toMatchObject({ count: 3, acked: false, ack_mode: 'defer' });
    const ids = polled['ack_ids'] as string[];
    expect(ids).toHaveLength(3);
    expect(ids.every((id) => id.startsWith('$JS.ACK.'))).toBe(true);
    expect((polled['messages'] as { ack_id: string }[]).map((m) => m.ack_id)).toEqual(ids);
    expect((await consumer(stream)).num_ack_pending).toBe(3);

    const acked = await run({ operation: 'ack', ack_ids: [ids[0]] });
    expect(acked).toMatchObject({
      status: 'success',
      operation: 'ack',
      requested: 1,
      disposed: 1,
      errors: [],
    });
    expect(await run({ operation: 'term', ack_ids: [ids[1]] })).toMatchObject({
      operation: 'term',
      disposed: 1,
    });
    expect(await run({ operation: 'nak', ack_ids: [ids[2]], nack_delay_ms: 10 })).toMatchObject({
      operation: 'nack',
      disposed: 1,
    });
    // only the nacked message comes back; the acked and terminated ones never do
    const again = await run({ stream, consumer: 'drain', timeout_ms: 2000 });
    expect((again['messages'] as { id: string }[]).map((m) => m.id)).toEqual(['3']);
    const info = await consumer(stream);
    expect(info.num_ack_pending + info.num_pending).toBe(0);
  });

  it('names what is wrong: source, operation, ack, ack ids, missing stream or consumer', async () => {
    expect(String(await fails({ source: 'pubsub', subscription: 'projects/p/subscriptions/s' }))).toMatch(
      /source 'pubsub' is not available in this build/,
    );
    expect(String(await fails({ stream: 'S', consumer: 'c', operation: 'subscribe' }))).toMatch(
      /unsupported operation 'subscribe'/,
    );
    expect(String(await fails({ stream: 'S', consumer: 'c', ack: 'sometimes' }))).toMatch(/'ack' must be/);
    expect(String(await fails({ operation: 'ack', ack_ids: ['orders.created'] }))).toMatch(
      /not a JetStream ack id/,
    );
    expect(String(await fails({ consumer: 'c' }))).toMatch(/'stream'/);
    const missing = await fails({ stream: `NOPE_${randomBytes(3).toString('hex')}`, consumer: 'c' });
    expect(String(missing)).toMatch(/stream 'NOPE_\w+' not found/);
    const stream = await streamWith(0);
    expect(String(await fails({ stream, consumer: 'nobody' }))).toMatch(/consumer 'nobody'/);
  });
});
