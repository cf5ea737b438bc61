/**
 * The control plane's PostgreSQL connections terminated (`pg_terminate_backend`) several times
 * in the middle of a run: statements and transactions that lost their connection before COMMIT
 * are retried on a fresh one, requests that fail are retried by the workers (events are
 * idempotent), and commands left unpublished are swept. Only this cluster's connections are
 * terminated: they carry `application_name=noetl_fault_<id>`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { natsServerAvailable } from '../helpers/nats-server.js';
import { startCluster, type Cluster } from '../helpers/cluster.js';
import {
  CI,
  COMMANDS_PER_EXECUTION,
  PLAYBOOK,
  expectAllExactlyOnce,
  startExecutions,
  waitForAll,
  waitForProgress,
} from './fault-support.js';

const suite = natsServerAvailable() || CI ? describe : describe.skip;

suite('fault: PostgreSQL connections dropped mid-run', () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await startCluster({ servers: 1, workers: 2 });
    await cluster.register(PLAYBOOK);
  }, 120_000);

  afterAll(async () => {
    await cluster?.dispose();
  }, 60_000);

  it('terminated backends are survived; every command completed once', async () => {
    try {
      const ids = await startExecutions(cluster, 6);
      const total = ids.length * COMMANDS_PER_EXECUTION;
      let terminated = 0;
      for (const share of [0.2, 0.4, 0.6, 0.8]) {
        await waitForProgress(cluster, ids, Math.floor(total * share));
        terminated += await cluster.terminateServerConnections();
      }
      expect(terminated).toBeGreaterThan(0);
      const statuses = await waitForAll(cluster, ids);
      expect([...statuses.values()]).toEqual(ids.map(() => 'COMPLETED'));
      await expectAllExactlyOnce(cluster, ids);
    } catch (err) {
      console.error(cluster.logs());
      throw err;
    }
  }, 150_000);
});
