/**
 * The nats-server restarted in the middle of a run, once cleanly (SIGTERM) and once as a crash
 * (SIGKILL): publishes wait and retry, pulls are re-issued after the reconnect, notifications
 * that were lost or left unacked are redelivered or swept again, and the claim keeps the work
 * exactly-once. Every execution completes and every command is completed exactly once.
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

suite('fault: NATS server restarted mid-run', () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await startCluster({ servers: 1, workers: 2 });
    await cluster.register(PLAYBOOK);
  }, 120_000);

  afterAll(async () => {
    await cluster?.dispose();
  }, 60_000);

  it('rides out a SIGTERM and a SIGKILL restart; every command completed once', async () => {
    try {
      const ids = await startExecutions(cluster, 6);
      const total = ids.length * COMMANDS_PER_EXECUTION;
      await waitForProgress(cluster, ids, Math.floor(total / 4));
      await cluster.nats.restart('SIGTERM');
      const afterFirst = await waitForProgress(cluster, ids, Math.floor(total / 2));
      expect(afterFirst).toBeLessThan(total);
      await cluster.nats.restart('SIGKILL');
      const statuses = await waitForAll(cluster, ids);
      expect([...statuses.values()]).toEqual(ids.map(() => 'COMPLETED'));
      await expectAllExactlyOnce(cluster, ids);
    } catch (err) {
      console.error(`${cluster.logs()}\n${await cluster.diagnose()}`);
      throw err;
    }
  }, 150_000);
});
