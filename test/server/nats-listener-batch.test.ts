/**
 * A NATS pull subscription dispatches each pulled batch of messages through one batch execute
 * (issue 15), with the NATS JetStream on 127.0.0.1:4222 and an embedded store: the messages
 * already in the stream arrive in batches of `runtime.batch`, each batch is one call starting
 * one execution per message, every message is acknowledged once its execution is recorded, and
 * a message refused by the batch is redelivered, not acknowledged.
 */
import { randomBytes } from 'node:crypto';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryBus } from '../../src/bus/index.js';
import { EnvelopeCipher } from '../../src/server/index.js';
import { Orchestrator, type ExecuteRequest } from '../../src/server/orchestrator/orchestrator.js';
import { NatsListeners } from '../../src/server/triggers/nats-listener.js';
import { silentLogger, SnowflakeIdGenerator, systemClock } from '../../src/shared/index.js';
import { PgliteStore } from '../../src/store/index.js';
import { templates } from '../../src/template/index.js';

const NATS_URL = 'nats://127.0.0.1:4222';
const tag = randomBytes(4).toString('hex');
const STREAM = `BATCHSUB_${tag}`;
const SUBJECT = `batchsub_${tag}`;
const TOTAL = 35;

let nc: NatsConnection;
let store: PgliteStore;
let orchestrator: Orchestrator;
let listeners: NatsListeners | undefined;

beforeAll(async () => {
  nc = await connect({ servers: NATS_URL });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: STREAM, subjects: [`${SUBJECT}.>`] });
  await jsm.consumers.add(STREAM, {
    durable_name: 'drain',
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: 2_000_000_000,
  });
  store = await PgliteStore.open({ dataDir: 'memory://' });
  await store.migrate();
  orchestrator = new Orchestrator({
    store,
    bus: new MemoryBus(),
    ids: new SnowflakeIdGenerator(systemClock),
    clock: systemClock,
    templates: templates(),
    logger: silentLogger,
    serverUrl: 'http://127.0.0.1:0',
  });
  await store.catalog.register({
    path: 'tests/batchsub/noop',
    kind: 'Playbook',
    content: `apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: noop, path: tests/batchsub/noop }
workflow:
  - step: start
    tool: { kind: noop }
`,
  });
  await store.catalog.register({
    path: 'subscriptions/batchsub',
    kind: 'Subscription',
    content: `apiVersion: noetl.io/v1
kind: Subscription
metadata: { name: batchsub, path: subscriptions/batchsub }
spec:
  source: nats
  mode: pull
  stream: ${STREAM}
  consumer: drain
  runtime: { batch: 10, timeout_ms: 1000 }
  dispatch: { playbook: tests/batchsub/noop }
`,
  });
}, 60_000);

afterAll(async () => {
  await listeners?.stop();
  await orchestrator?.flushPublished();
  await store?.close();
  if (nc) {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.delete(STREAM).catch(() => undefined);
    await nc.close();
  }
});

describe('a nats subscription dispatching through batch execute', () => {
  it('starts each pulled batch with one call and acks its messages once recorded', async () => {
    const js = jetstream(nc);
    for (let n = 0; n < TOTAL; n++) await js.publish(`${SUBJECT}.m`, JSON.stringify({ n }));
    const calls: number[] = [];
    let refusedOnce = false;
    listeners = new NatsListeners({
      store,
      cipher: new EnvelopeCipher(randomBytes(32)),
      clock: systemClock,
      logger: silentLogger,
      nats: { url: NATS_URL },
      refreshMs: 60_000,
      runner: {
        async executeBatch(reqs: readonly ExecuteRequest[]) {
          calls.push(reqs.length);
          const outcomes = await orchestrator.executeBatch(reqs);
          // the first batch's message n=3 is refused (as a lost store would be): no ack, redelivered
          return outcomes.map((o, i) => {
            if (!refusedOnce && (reqs[i]!.payload as { n?: number }).n === 3) {
              refusedOnce = true;
              return { error: new Error('refused once') };
            }
            return o;
          });
        },
      },
    });
    listeners.start();
    const jsm = await jetstreamManager(nc);
    const deadline = Date.now() + 30_000;
    for (;;) {
      const info = await jsm.consumers.info(STREAM, 'drain');
      if (info.num_pending === 0 && info.num_ack_pending === 0 && info.ack_floor.stream_seq === TOTAL) break;
      if (Date.now() > deadline) throw new Error(`consumer not drained: ${JSON.stringify(info)}`);
      await new Promise((res) => setTimeout(res, 100));
    }
    // batches, not a call per message: 35 messages in pulls of at most 10, plus the redelivery
    expect(calls.every((n) => n <= 10)).toBe(true);
    expect(calls.length).toBeLessThan(TOTAL / 2);
    expect(calls.reduce((a, b) => a + b, 0)).toBe(TOTAL + 1);
    expect(refusedOnce).toBe(true);
    const { rows } = await store.query(
      // the workload is on each execution's playbook_started event
      `SELECT count(*)::int AS n, count(DISTINCT e.context->'workload'->>'n')::int AS distinct_n
       FROM noetl.execution x
       JOIN noetl.event e ON e.execution_id = x.execution_id AND e.event_type = 'playbook_started'
       WHERE x.path = 'tests/batchsub/noop'`,
    );
    // the refused message started on its redelivery: one execution per message, none doubled
    expect(rows[0]).toEqual({ n: TOTAL, distinct_n: TOTAL });
  }, 60_000);
});
