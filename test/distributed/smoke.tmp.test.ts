import { afterAll, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../helpers/cluster.js';
import { PLAYBOOK, startExecutions, waitForAll, expectAllExactlyOnce } from './fault-support.js';

let cluster: Cluster | undefined;
afterAll(async () => {
  await cluster?.dispose();
});

it('smoke', async () => {
  const t0 = Date.now();
  cluster = await startCluster();
  console.log('cluster up', Date.now() - t0);
  await cluster.register(PLAYBOOK);
  const ids = await startExecutions(cluster, 4);
  const st = await waitForAll(cluster, ids);
  console.log('done', Date.now() - t0, [...st.values()]);
  const ev = await cluster.events(ids[0]!);
  console.log(JSON.stringify(ev.slice(0, 6), null, 1));
  await expectAllExactlyOnce(cluster, ids);
  expect(true).toBe(true);
}, 120_000);
