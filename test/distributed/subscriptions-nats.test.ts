/**
 * A NATS pull subscription (kind: Subscription, spec.source: nats) draining 1,000 messages into
 * 1,000 executions while the control-plane process is killed (SIGKILL) halfway and started again:
 * none lost (every message's execution is in the store), none doubled (one execution per
 * idempotency key; messages sent twice with one x-idempotency-key start once). docs/triggers.md.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jetstream, jetstreamManager, AckPolicy, DeliverPolicy } from '@nats-io/jetstream';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { natsServerAvailable } from '../helpers/nats-server.js';
import { startCluster, waitFor, type Cluster } from '../helpers/cluster.js';
import { withPg } from '../helpers/pg-scratch.js';
import { CI } from './fault-support.js';

const suite = natsServerAvailable() || CI ? describe : describe.skip;

const TOTAL = 1_000;
/** Messages that carry an x-idempotency-key header; each is also published a second time. */
const KEYED = 20;

const PLAYBOOK = `apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: sub_noop, path: tests/subscriptions/noop }
workflow:
  - step: start
    tool: { kind: noop }
`;

suite('a nats subscription through a server crash', () => {
  let cluster: Cluster;
  let nc: NatsConnection;
  const stream = `SUBS_${Date.now().toString(36)}`;
  const subject = `orders_${Date.now().toString(36)}`;

  beforeAll(async () => {
    cluster = await startCluster({ servers: 1, workers: 1, workerConcurrency: 8 });
    await cluster.register(PLAYBOOK);
    nc = await connect({ servers: cluster.nats.url });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: stream, subjects: [`${subject}.>`] });
    // as NoETL's e2e scripts do, the durable consumer exists before the subscription; a short
    // ack wait makes the killed server's unacked messages come back within seconds
    await jsm.consumers.add(stream, {
      durable_name: 'drain',
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: 3_000_000_000,
      max_ack_pending: 1_000,
    });
  }, 120_000);

  afterAll(async () => {
    await nc?.close();
    await cluster?.dispose();
  }, 60_000);

  const executions = async (): Promise<{ key: string; n: string | null }[]> =>
    withPg(async (c) => {
      const r = await c.query(
        // the workload is on each execution's playbook_started event
        `SELECT x.idempotency_key AS key, e.context->'workload'->>'n' AS n
         FROM ${cluster.schema}.execution x
         LEFT JOIN ${cluster.schema}.event e
           ON e.execution_id = x.execution_id AND e.event_type = 'playbook_started'
         WHERE x.idempotency_key LIKE 'nats:%' OR x.idempotency_key LIKE 'subscription:%'`,
      );
      return r.rows as { key: string; n: string | null }[];
    });

  it('starts one execution per message, none lost and none doubled', async () => {
    await cluster.api(0, 'POST', '/api/credentials', {
      name: 'nats_e2e',
      type: 'nats',
      data: { nats_url: cluster.nats.url },
    });
    await cluster.api(0, 'POST', '/api/catalog/register', {
      content: `apiVersion: noetl.io/v1
kind: Subscription
metadata: { name: orders_stream, path: subscriptions/orders_stream }
spec:
  source: nats
  mode: pull
  activation: continuous
  auth: nats_e2e
  stream: ${stream}
  consumer: drain
  runtime: { batch: 50, timeout_ms: 1000 }
  dispatch:
    playbook: tests/subscriptions/noop
    payload_from: message.json
  dedup: { enabled: true, window_secs: 600 }
  headers:
    directives:
      - header: x-idempotency-key
        controls: idempotency_key
`,
    });
    const js = jetstream(nc);
    const publish = async (n: number): Promise<void> => {
      const h = headers();
      if (n < KEYED) h.set('x-idempotency-key', `order-${n}`);
      await js.publish(`${subject}.new`, JSON.stringify({ n }), { headers: h });
    };
    for (let n = 0; n < TOTAL; n++) await publish(n);
    for (let n = 0; n < KEYED; n++) await publish(n); // a sender's retry of the keyed ones
    try {
      // halfway: kill the server while it is draining, then start it again
      await waitFor(
        async () => ((await executions()).length >= TOTAL / 2 ? true : undefined),
        'half the executions',
        60_000,
        { intervalMs: 20 },
      );
      const before = (await executions()).length;
      await cluster.servers[0]!.stop('SIGKILL');
      expect(before).toBeLessThan(TOTAL); // the kill came before the drain ended
      await cluster.servers[0]!.start();
      await waitFor(
        async () => ((await executions()).length >= TOTAL ? true : undefined),
        `${TOTAL} executions`,
        60_000,
        { intervalMs: 250 },
      );
      // every message acknowledged: nothing left to deliver or waiting for an ack
      const jsm = await jetstreamManager(nc);
      const info = await waitFor(
        async () => {
          const i = await jsm.consumers.info(stream, 'drain');
          return i.num_pending === 0 && i.num_ack_pending === 0 ? i : undefined;
        },
        'the consumer to be drained',
        30_000,
      );
      expect(info.delivered.stream_seq).toBe(TOTAL + KEYED);
      const all = await executions();
      expect(all).toHaveLength(TOTAL);
      expect(new Set(all.map((e) => e.key)).size).toBe(TOTAL);
      expect(new Set(all.map((e) => e.n)).size).toBe(TOTAL);
      expect(
        all.filter((e) => e.key.startsWith('subscription:subscriptions/orders_stream:order-')),
      ).toHaveLength(KEYED);
      const sample = await withPg(async (c) => {
        const r = await c.query(
          `SELECT execution_id::text AS id FROM ${cluster.schema}.execution WHERE idempotency_key LIKE 'nats:%' LIMIT 3`,
        );
        return (r.rows as { id: string }[]).map((row) => row.id);
      });
      for (const id of sample) {
        await waitFor(
          async () => ((await cluster.status(id)) === 'COMPLETED' ? true : undefined),
          `execution ${id} completed`,
          30_000,
        );
      }
    } catch (err) {
      console.error(cluster.logs());
      throw err;
    }
  }, 150_000);
});
