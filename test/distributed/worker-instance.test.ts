/**
 * Issue 10 item 7: a worker restarted under the same name (`noetl worker start --name`, a pod
 * with a fixed WORKER_ID) does not strand what its killed predecessor claimed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, waitFor, type Cluster } from '../helpers/cluster.js';
import { natsServerAvailable } from '../helpers/nats-server.js';
import { CI } from './fault-support.js';

const suite = natsServerAvailable() || CI ? describe : describe.skip;

const SLOW = `apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: slow_one, path: tests/instance/slow }
workflow:
  - step: start
    tool: { kind: shell, command: "sleep 1.5; echo done" }
`;

suite('a worker restarted under its name', () => {
  let cluster: Cluster;

  beforeAll(async () => {
    // A silent worker is offline after 60 s here: only the restart itself can free its claims
    // within the test's wait, not the offline reaper.
    cluster = await startCluster({ servers: 1, workers: 0, env: { NOETL_RUNTIME_OFFLINE_SECONDS: '60' } });
    await cluster.register(SLOW);
  }, 120_000);

  afterAll(async () => {
    await cluster?.dispose();
  }, 60_000);

  it('a worker restarted under the same name gets back what its killed predecessor claimed', async () => {
    try {
      const name = `same-name-${cluster.id}`;
      const first = await cluster.addWorker(0, { WORKER_ID: name });
      const id = await cluster.execute('tests/instance/slow');
      await waitFor(
        async () => ((await first.health()).running > 0 ? true : undefined),
        'the first process to run the command',
        60_000,
        { intervalMs: 20 },
      );
      await first.stop('SIGKILL');
      // The same name again, at once: it heartbeats, so the name never goes offline.
      await cluster.addWorker(0, { WORKER_ID: name });
      const status = await waitFor(
        async () => {
          const s = await cluster.status(id);
          return s === 'RUNNING' ? undefined : s;
        },
        'the execution to finish',
        25_000,
        { intervalMs: 200 },
      );
      expect(status).toBe('COMPLETED');
      const events = await cluster.events(id);
      const claims = events.filter((e) => e.event_type === 'command.claimed');
      expect(claims.length).toBe(2);
      expect(events.filter((e) => e.event_type === 'command.completed').length).toBe(1);
    } catch (err) {
      console.error(`${cluster.logs()}\n${await cluster.diagnose()}`);
      throw err;
    }
  }, 120_000);
});
