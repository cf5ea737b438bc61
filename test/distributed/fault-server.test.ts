/**
 * The control plane stopped in the middle of a run (SIGTERM, then SIGKILL) and started again on
 * the same port: workers retry claims and event posts until it is back, the new process rebuilds
 * each execution's state from the log, and the outbox sweep publishes commands committed but not
 * published. Every execution completes and every command is completed exactly once.
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

suite('fault: control plane restarted mid-run', () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await startCluster({ servers: 1, workers: 2 });
    await cluster.register(PLAYBOOK);
  }, 120_000);

  afterAll(async () => {
    await cluster?.dispose();
  }, 60_000);

  it.each(['SIGTERM', 'SIGKILL'] as const)(
    'stopped with %s and restarted on the same port: every command completed once',
    async (signal) => {
      try {
        const server = cluster.servers[0]!;
        const ids = await startExecutions(cluster, 6);
        const total = ids.length * COMMANDS_PER_EXECUTION;
        const before = await waitForProgress(cluster, ids, Math.floor(total / 3));
        expect(before).toBeLessThan(total);
        await server.restart(signal);
        const statuses = await waitForAll(cluster, ids);
        expect([...statuses.values()]).toEqual(ids.map(() => 'COMPLETED'));
        await expectAllExactlyOnce(cluster, ids);
      } catch (err) {
        console.error(`${cluster.logs()}\n${await cluster.diagnose()}`);
        throw err;
      }
    },
    150_000,
  );
});
