/**
 * The control plane's PostgreSQL connections terminated (`pg_terminate_backend`) several times
 * in the middle of a run: statements and transactions that lost their connection before COMMIT
 * are retried on a fresh one, requests that fail are retried by the workers (events are
 * idempotent), and commands left unpublished are swept. Only this cluster's connections are
 * terminated: they carry `application_name=noetl_fault_<id>`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { natsServerAvailable } from '../helpers/nats-server.js';
import { startCluster, waitFor, type Cluster } from '../helpers/cluster.js';
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
      for (const share of [0.25, 0.5, 0.75]) {
        const reached = await waitForProgress(cluster, ids, Math.floor(total * share));
        // Keep terminating every 50 ms until two more commands completed: the server must make
        // progress while its connections keep dying, in and between transactions.
        await waitFor(
          async () => {
            terminated += await cluster.terminateServerConnections();
            return (await cluster.completedCommands(ids)) >= Math.min(total, reached + 2) ? true : undefined;
          },
          'progress while connections are terminated',
          60_000,
          { intervalMs: 50 },
        );
      }
      expect(terminated).toBeGreaterThan(0);
      const statuses = await waitForAll(cluster, ids);
      expect([...statuses.values()]).toEqual(ids.map(() => 'COMPLETED'));
      await expectAllExactlyOnce(cluster, ids);
    } catch (err) {
      console.error(`${cluster.logs()}\n${await cluster.diagnose()}`);
      throw err;
    }
  }, 150_000);
});
