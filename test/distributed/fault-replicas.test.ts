/**
 * Two control-plane replicas on one database behind one NATS: executions are started on both,
 * both run the sweeps, and decisions for one execution are serialized by its lock (an advisory
 * lock in PostgreSQL), whichever replica takes the worker's event. Every execution completes and
 * every command is completed exactly once.
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

suite('two server replicas on one database', () => {
  let cluster: Cluster;

  beforeAll(async () => {
    // both workers talk to replica 0 at first
    cluster = await startCluster({ servers: 2, workers: 2, workerServer: () => 0 });
    await cluster.register(PLAYBOOK);
  }, 120_000);

  afterAll(async () => {
    await cluster?.dispose();
  }, 60_000);

  async function runOnBoth(): Promise<void> {
    try {
      const ids = await startExecutions(cluster, 8, [0, 1]);
      const statuses = await waitForAll(cluster, ids);
      expect([...statuses.values()]).toEqual(ids.map(() => 'COMPLETED'));
      await expectAllExactlyOnce(cluster, ids);
      // the other replica reads the same state
      for (const id of ids) expect(await cluster.status(id, 1)).toBe('COMPLETED');
    } catch (err) {
      console.error(`${cluster.logs()}\n${await cluster.diagnose()}`);
      throw err;
    }
  }

  it('executions started on both, workers on one: every command completed once', runOnBoth, 150_000);

  it('workers on both replicas (events of one execution land on either): every command completed once', async () => {
    await cluster.addWorker(1);
    await runOnBoth();
  }, 150_000);

  it('replica 1 killed with SIGKILL mid-run: replica 0 finishes its executions', async () => {
    try {
      const ids = await startExecutions(cluster, 8, [0, 1]);
      const total = ids.length * COMMANDS_PER_EXECUTION;
      const before = await waitForProgress(cluster, ids, Math.floor(total / 3));
      expect(before).toBeLessThan(total);
      // The worker talking to replica 1 can no longer claim, report or heartbeat: replica 0's
      // reaper releases what it holds, and replica 0's sweeps publish what replica 1 left.
      await cluster.servers[1]!.stop('SIGKILL');
      const statuses = await waitForAll(cluster, ids);
      expect([...statuses.values()]).toEqual(ids.map(() => 'COMPLETED'));
      await expectAllExactlyOnce(cluster, ids);
    } catch (err) {
      console.error(`${cluster.logs()}\n${await cluster.diagnose()}`);
      throw err;
    }
  }, 150_000);
});
