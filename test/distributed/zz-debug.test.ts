import { afterAll, beforeAll, expect, it } from 'vitest';
import { startCluster, type Cluster } from '/work/main/test/helpers/cluster.js';
import { COMMANDS_PER_EXECUTION, PLAYBOOK, startExecutions, waitForAll, waitForProgress } from '/work/main/test/distributed/fault-support.js';
let cluster: Cluster;
beforeAll(async () => {
  cluster = await startCluster({ servers: 2, workers: 2, workerServer: () => 0, env: { NOETL_LOG_LEVEL: 'info' } });
  await cluster.register(PLAYBOOK);
  await cluster.addWorker(1);
}, 120_000);
afterAll(async () => { await cluster?.dispose(); }, 60_000);
it('x', async () => {
  const ids = await startExecutions(cluster, 8, [0, 1]);
  const total = ids.length * COMMANDS_PER_EXECUTION;
  await waitForProgress(cluster, ids, Math.floor(total / 3));
  const t0 = Date.now();
  await cluster.servers[1]!.stop('SIGKILL');
  console.log('killed at', new Date().toISOString());
  const done = new Map<string, number>();
  try { await waitForAll(cluster, ids, 70_000); } catch (e) { console.log('FAILED', await cluster.diagnose()); console.log(cluster.logs().split('\n').filter((l) => !/FSTDEP|trace-warnings/.test(l)).map((l) => l.slice(0, 500)).join('\n')); throw e; }
  console.log('all done after', Date.now() - t0);
  console.log(cluster.logs().split('\n').filter((l) => /sweep|claim failed|offline|released|publish|error/i.test(l)).map((l) => l.slice(0, 400)).join('\n'));
  expect(done).toBeDefined();
}, 200_000);
