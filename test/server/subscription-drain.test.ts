/**
 * A bounded drain through the embedded server (issue 15): examples/triggers/subscription_drain.yaml
 * (NoETL's drain fixture with `source: nats`) pulls the messages of a JetStream durable consumer
 * on 127.0.0.1:4222 with the `subscription` tool, acks them, and its next steps get the batch:
 * one loop iteration per message. A second run finds the consumer empty and takes the empty arc.
 */
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type RunningServer } from '../helpers/embedded-server.js';

const NATS_URL = 'nats://127.0.0.1:4222';
const STREAM = `DRAIN_${randomBytes(4).toString('hex')}`;

let server: RunningServer;
let nc: NatsConnection;

beforeAll(async () => {
  nc = await connect({ servers: NATS_URL });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: STREAM, subjects: [`${STREAM}.>`] });
  await jsm.consumers.add(STREAM, { durable_name: 'orders-drain', ack_policy: AckPolicy.Explicit });
  server = await startTestServer();
  const cred = await server.post('/api/credentials', {
    name: 'nats_main',
    type: 'nats',
    data: { url: NATS_URL },
  });
  expect(cred.status).toBe(200);
  await server.register(
    readFileSync(new URL('../../examples/triggers/subscription_drain.yaml', import.meta.url), 'utf8'),
  );
}, 60_000);

afterAll(async () => {
  await server?.stop();
  if (nc) {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.delete(STREAM).catch(() => undefined);
    await nc.close();
  }
});

interface Result {
  status: string;
  step_results: Record<string, unknown>;
}

async function run(): Promise<Result> {
  const r = await server.post<{ execution_id: string }>('/api/execute', {
    path: 'examples/triggers/subscription_drain',
    payload: { stream: STREAM, timeout_ms: 1000 },
  });
  expect(r.status).toBe(200);
  expect((await server.waitFor(r.body.execution_id))['status']).toBe('COMPLETED');
  return (await server.get<Result>(`/api/executions/${r.body.execution_id}/result`)).body;
}

describe('the subscription tool in a playbook', () => {
  it('returns the drained batch to the playbook and acks it', async () => {
    const js = jetstream(nc);
    for (const n of [1, 2, 3]) await js.publish(`${STREAM}.orders`, JSON.stringify({ order: n }));

    const first = await run();
    const drain = first.step_results['drain'] as Record<string, unknown>;
    expect(drain).toMatchObject({ status: 'success', source: 'nats', count: 3, acked: true });
    expect((drain['messages'] as { data: unknown }[]).map((m) => m.data)).toEqual([
      { order: 1 },
      { order: 2 },
      { order: 3 },
    ]);
    // one loop iteration per message (a rendered "3" reads back as the number 3)
    expect(first.step_results['process_batch']).toEqual(
      [1, 2, 3].map((n) => ({
        processed_id: n,
        payload: { order: n },
      })),
    );
    expect(first.step_results['end']).toMatchObject({ status: 'complete', drained: 3, acked: true });
    expect(first.step_results['empty']).toBeUndefined();
    const info = await (await jetstreamManager(nc)).consumers.info(STREAM, 'orders-drain');
    expect(info.num_pending + info.num_ack_pending).toBe(0);

    const second = await run();
    expect(second.step_results['drain']).toMatchObject({ count: 0, messages: [] });
    expect(second.step_results['empty']).toMatchObject({ status: 'empty', drained: 0 });
    expect(second.step_results['process_batch']).toBeUndefined();
  }, 60_000);
});
