/**
 * NATS pull subscriptions on the embedded server (PGlite, in-process workers) with the NATS
 * JetStream on 127.0.0.1:4222 (docs/triggers.md): a message's payload and header directives, a
 * refused route that never starts anything, and the registration warnings of kafka/pubsub.
 */
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExecutionRecord } from '../../src/store/index.js';
import { startTestServer, type RunningServer } from '../helpers/embedded-server.js';

const NATS_URL = 'nats://127.0.0.1:4222';
const id = Date.now().toString(36);
const STREAM = `SUBTEST_${id}`;
const SUBJECT = `subtest_${id}`;

const playbook = (path: string): string => `apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: ${path.split('/').pop()}, path: ${path} }
workflow:
  - step: start
    tool: { kind: noop }
`;

let server: RunningServer;
let nc: NatsConnection;

beforeAll(async () => {
  nc = await connect({ servers: NATS_URL });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: STREAM, subjects: [`${SUBJECT}.>`] });
  await jsm.consumers.add(STREAM, {
    durable_name: 'drain',
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: 5_000_000_000,
  });
  server = await startTestServer();
  await server.register(playbook('tests/subs/default'));
  await server.register(playbook('tests/subs/priority'));
}, 60_000);

afterAll(async () => {
  await server?.stop();
  if (nc) {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.delete(STREAM).catch(() => undefined);
    await nc.close();
  }
});

async function bySeq(seq: number, timeoutMs = 20_000): Promise<ExecutionRecord> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const e = await server.handle.store.executions.findByIdempotencyKey(
      `nats:${STREAM}:drain:${seq}`,
      3_600_000,
    );
    if (e) return e;
    if (Date.now() > deadline) throw new Error(`no execution for message ${seq}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('nats subscriptions on the embedded server', () => {
  it('registers kafka and pubsub subscriptions with a warning that nothing consumes them', async () => {
    const r = await server.post<{
      kind: string;
      warnings: { code: string; severity: string; message: string }[];
    }>('/api/catalog/register', {
      content: `apiVersion: noetl.io/v1
kind: Subscription
metadata: { name: kafka_orders, path: subscriptions/kafka_orders }
spec: { source: kafka, mode: pull, topic: orders, dispatch: { playbook: tests/subs/default } }
`,
    });
    expect(r.status).toBe(200);
    expect(r.body.kind).toBe('subscription');
    expect(r.body.warnings).toHaveLength(1);
    expect(r.body.warnings[0]).toMatchObject({ code: 'SOURCE_UNAVAILABLE', severity: 'warning' });
    expect(r.body.warnings[0]!.message).toContain('not available in this build');
  });

  it('starts the playbook per message with its payload, follows allowed routes, refuses others', async () => {
    const r = await server.post('/api/catalog/register', {
      content: `apiVersion: noetl.io/v1
kind: Subscription
metadata: { name: sub_test, path: subscriptions/sub_test }
spec:
  source: nats
  mode: pull
  activation: continuous
  stream: ${STREAM}
  consumer: drain
  runtime: { batch: 10, timeout_ms: 1000 }
  dispatch: { playbook: tests/subs/default, payload_from: message.json }
  headers:
    directives:
      - header: x-noetl-route
        controls: dispatch.playbook
        allowed: [tests/subs/default, tests/subs/priority]
`,
    });
    expect(r.status).toBe(200);
    const js = jetstream(nc);
    await js.publish(`${SUBJECT}.a`, JSON.stringify({ order: 7 }));
    const routed = headers();
    routed.set('x-noetl-route', 'tests/subs/priority');
    await js.publish(`${SUBJECT}.b`, 'plain text', { headers: routed });
    const refused = headers();
    refused.set('x-noetl-route', 'tests/other');
    await js.publish(`${SUBJECT}.c`, '{}', { headers: refused });

    const first = await bySeq(1);
    expect(first.path).toBe('tests/subs/default');
    const w = first.workload as Record<string, unknown>;
    expect(w['order']).toBe(7);
    expect(w['subscription']).toBe('sub_test');
    expect(w['message']).toMatchObject({
      json: { order: 7 },
      subject: `${SUBJECT}.a`,
      stream: STREAM,
      seq: 1,
    });
    expect((await server.waitFor(first.executionId))['status']).toBe('COMPLETED');

    const second = await bySeq(2);
    expect(second.path).toBe('tests/subs/priority');
    expect((second.workload as Record<string, unknown>)['message']).toMatchObject({
      json: null,
      text: 'plain text',
    });

    // the refused route: redelivered a few times, then terminated; it never starts an execution
    const jsm = await jetstreamManager(nc);
    const deadline = Date.now() + 30_000;
    for (;;) {
      const info = await jsm.consumers.info(STREAM, 'drain');
      if (info.num_pending === 0 && info.num_ack_pending === 0 && info.delivered.stream_seq === 3) break;
      if (Date.now() > deadline) throw new Error(`consumer not drained: ${JSON.stringify(info)}`);
      await new Promise((res) => setTimeout(res, 200));
    }
    expect(
      await server.handle.store.executions.findByIdempotencyKey(`nats:${STREAM}:drain:3`, 3_600_000),
    ).toBeUndefined();
  }, 60_000);
});
