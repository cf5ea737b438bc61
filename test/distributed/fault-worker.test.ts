/**
 * A worker killed with SIGKILL in the middle of a command: its heartbeat stops, the server marks
 * it offline and releases its claimed commands (the reaper), and the surviving worker runs them.
 * A worker stopped with SIGTERM whose commands outlive its grace period gives them back itself.
 * Every execution completes and every command is completed exactly once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { natsServerAvailable } from '../helpers/nats-server.js';
import { startCluster, waitFor, type Cluster } from '../helpers/cluster.js';
import { CI, PLAYBOOK, expectAllExactlyOnce, startExecutions, waitForAll } from './fault-support.js';

const suite = natsServerAvailable() || CI ? describe : describe.skip;

suite('fault: worker stopped mid-command', () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await startCluster({ servers: 1, workers: 2 });
    await cluster.register(PLAYBOOK);
  }, 120_000);

  afterAll(async () => {
    await cluster?.dispose();
  }, 60_000);

  it('the reaper releases its commands and the other worker completes them, once each', async () => {
    try {
      const victim = cluster.workers[0]!;
      const ids = await startExecutions(cluster, 6);
      // mid-command: the victim has claimed and is running at least one
      await waitFor(
        async () => ((await victim.health()).running > 0 ? true : undefined),
        'the victim to run a command',
        60_000,
        { intervalMs: 20 },
      );
      await victim.stop('SIGKILL');
      const statuses = await waitForAll(cluster, ids);
      expect([...statuses.values()]).toEqual(ids.map(() => 'COMPLETED'));
      const history = await expectAllExactlyOnce(cluster, ids);
      // The fault really happened: some command claimed by the victim was completed by another.
      const reaped = [...history.values()].filter(
        (h) => h.claimedBy.includes(victim.workerId) && !h.completedBy.includes(victim.workerId),
      );
      expect(reaped.length).toBeGreaterThan(0);
      for (const h of reaped) expect(h.claimedBy.length).toBeGreaterThan(1);
    } catch (err) {
      console.error(`${cluster.logs()}\n${await cluster.diagnose()}`);
      throw err;
    }
  }, 150_000);

  it('a worker stopped with SIGTERM past its grace period hands its commands back; others complete them once', async () => {
    try {
      // grace 0: SIGTERM aborts the running tools at once and releases their commands
      const leaving = await cluster.addWorker(0, { WORKER_GRACE_SECONDS: '0' });
      const ids = await startExecutions(cluster, 6);
      await waitFor(
        async () => ((await leaving.health()).running > 0 ? true : undefined),
        'the leaving worker to run a command',
        60_000,
        { intervalMs: 20 },
      );
      await leaving.stop('SIGTERM');
      expect(leaving.exitCode).toBe(0);
      const statuses = await waitForAll(cluster, ids);
      expect([...statuses.values()]).toEqual(ids.map(() => 'COMPLETED'));
      const history = await expectAllExactlyOnce(cluster, ids);
      const handedBack = [...history.values()].filter(
        (h) => h.claimedBy.includes(leaving.workerId) && !h.completedBy.includes(leaving.workerId),
      );
      expect(handedBack.length).toBeGreaterThan(0);
    } catch (err) {
      console.error(`${cluster.logs()}\n${await cluster.diagnose()}`);
      throw err;
    }
  }, 150_000);
});
