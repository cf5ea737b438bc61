/**
 * Traces across processes (docs/observability.md, "Traces"): two server replicas on PostgreSQL,
 * a worker process on NATS JetStream, all exporting to one local OTLP/HTTP receiver. The
 * execution is started on one replica and driven by the other (the worker talks to it), and its
 * spans still form one trace: the step spans recorded by the server that ended each step are the
 * parents the worker's tool spans named from the notifications' `trace.traceparent`.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { traceIdOf } from '../../src/shared/index.js';
import { startCluster, type Cluster } from '../helpers/cluster.js';
import { natsServerAvailable } from '../helpers/nats-server.js';
import {
  checkTrace,
  renderTrace,
  startOtlpReceiver,
  TRACED,
  traceOf,
  type OtlpReceiver,
} from '../helpers/otlp-receiver.js';
import { CI } from './fault-support.js';

const run = natsServerAvailable() || CI ? it : it.skip;

let receiver: OtlpReceiver;
let cluster: Cluster;

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  cluster = await startCluster({
    servers: 2,
    workers: 1,
    workerServer: () => 0,
    // The trace counts each tool call once: a worker starved for 3 s on a loaded host would be
    // taken for offline and its command run again (at least once, by design).
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, NOETL_RUNTIME_OFFLINE_SECONDS: '20' },
  });
  await cluster.register(TRACED);
}, 120_000);

afterAll(async () => {
  await cluster?.dispose();
  await receiver?.close();
}, 60_000);

run(
  'one trace over two replicas, the bus and a worker process',
  async () => {
    try {
      const id = await cluster.execute('tests/traces/traced', 1, { echo: `${receiver.url}/echo` });
      const spans = await traceOf(receiver, id, 5);
      expect(await cluster.status(id)).toBe('COMPLETED');
      const fetch = checkTrace(spans, id);
      expect(fetch.service).toBe('noetl-worker');
      for (const s of spans.filter((x) => /^(step|execution) /.test(x.name)))
        expect(s.service, s.name).toBe('noetl-server');
      expect(receiver.echoed.map((h) => h['traceparent'])).toEqual([
        `00-${traceIdOf(id)}-${fetch.spanId}-01`,
      ]);
      console.log(`trace ${traceIdOf(id)} (two servers, one worker)\n${renderTrace(spans)}`);
    } catch (err) {
      console.error(`${cluster.logs()}\n${await cluster.diagnose()}`);
      throw err;
    }
  },
  120_000,
);
