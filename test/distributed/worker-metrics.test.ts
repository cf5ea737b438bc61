/**
 * Issue 10 item 8: two workers started with defaults on one machine both run. Metrics listen on
 * loopback; a default port that is taken moves to a free one, an explicit one that is taken is
 * a warning: never the end of a worker.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, waitFor, type Cluster } from '../helpers/cluster.js';
import { natsServerAvailable } from '../helpers/nats-server.js';
import { CI } from './fault-support.js';

const suite = natsServerAvailable() || CI ? describe : describe.skip;
const WORKER_MAIN = fileURLToPath(new URL('../../dist/worker/main.js', import.meta.url));

suite('worker metrics listener', () => {
  let cluster: Cluster;
  const children = new Set<ChildProcess>();

  beforeAll(async () => {
    cluster = await startCluster({ servers: 1, workers: 0 });
  }, 120_000);

  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    await cluster?.dispose();
  }, 60_000);

  /** A worker process started with the defaults of the metrics address (no WORKER_METRICS_BIND). */
  function defaultWorker(
    n: number,
    extra: Record<string, string> = {},
  ): { child: ChildProcess; output: () => string } {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      NOETL_LOG_LEVEL: 'info',
      NATS_URL: cluster.nats.url,
      NATS_STREAM: `fault_${cluster.id}`,
      NATS_CONSUMER: `fault_${cluster.id}`,
      NATS_SUBJECT: `fault_${cluster.id}.commands`,
      NOETL_SERVER_URL: cluster.servers[0]!.url,
      WORKER_ID: `defaults-${cluster.id}-${n}`,
      WORKER_HEARTBEAT_INTERVAL: '1',
    };
    delete env['WORKER_METRICS_BIND'];
    delete env['PORT'];
    Object.assign(env, extra);
    const child = spawn(process.execPath, [WORKER_MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let out = '';
    child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
    return { child, output: () => out };
  }

  it('two workers started with defaults both run; metrics on loopback; a taken port is a warning', async () => {
    // Whatever holds 9090 on this machine, or this test's own holder: the default port is taken
    // for at least one of the two workers.
    const holder: Server = createServer();
    await new Promise<void>((resolve) => {
      holder.once('error', () => resolve());
      holder.listen(9090, '127.0.0.1', () => resolve());
    });
    try {
      const workers = [defaultWorker(1), defaultWorker(2)];
      for (const w of workers) {
        await waitFor(
          () => Promise.resolve(w.output().includes('worker started') ? true : undefined),
          'the worker to start',
          30_000,
        );
      }
      // still running a while later, both
      await new Promise((r) => setTimeout(r, 1_500));
      for (const w of workers) {
        expect(w.child.exitCode, w.output()).toBeNull();
        const ready = w
          .output()
          .split('\n')
          .find((l) => l.includes('"worker ready"'));
        const metrics = (JSON.parse(ready ?? '{}') as { metrics?: string }).metrics ?? '';
        expect(metrics).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
        const health = await fetch(`${metrics}/health`);
        expect(health.status).toBe(200);
      }
      // An explicit address that is taken: a warning, and the worker runs without the listener.
      const taken = Number(
        /:(\d+)$/.exec(
          (
            JSON.parse(
              workers[0]!
                .output()
                .split('\n')
                .find((l) => l.includes('"worker ready"'))!,
            ) as {
              metrics: string;
            }
          ).metrics,
        )![1],
      );
      const third = defaultWorker(3, { WORKER_METRICS_BIND: `127.0.0.1:${taken}` });
      await waitFor(
        () => Promise.resolve(third.output().includes('worker started') ? true : undefined),
        'the third worker to start',
        30_000,
      );
      expect(third.output()).toContain('metrics listener not started');
      await new Promise((r) => setTimeout(r, 500));
      expect(third.child.exitCode, third.output()).toBeNull();
      const pools = await cluster.api<{ name: string; status: string }[]>(0, 'GET', '/api/worker/pools');
      const names = pools.filter((p) => p.status === 'active').map((p) => p.name);
      expect(names).toEqual(expect.arrayContaining([1, 2, 3].map((n) => `defaults-${cluster.id}-${n}`)));
    } finally {
      holder.close();
    }
  }, 120_000);
});
