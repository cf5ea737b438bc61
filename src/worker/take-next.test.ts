/**
 * Issue 17: a worker asks, with each command's end, for one command of what it decides (`take`),
 * and runs what the answer hands over in the same slot, without a notification or a claim of its
 * own. The control plane is a local HTTP stub; the bus is the in-memory one.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryBus } from '../bus/index.js';
import { ControlPlaneClient } from '../client/index.js';
import { silentLogger } from '../shared/index.js';
import { defaultRegistry } from '../tools/index.js';
import { Worker } from './worker.js';

interface Posted {
  readonly path: string;
  readonly body: {
    readonly events?: { event_type: string; payload: Record<string, unknown> }[];
    readonly take?: { max: number; pool?: string };
  };
}

const command = (step: string, eventId: string) => ({
  status: 'ok',
  event_id: eventId,
  claim_event_id: `${eventId}1`,
  execution_id: '1',
  command_id: `1:${step}:${eventId}`,
  node_id: step,
  node_name: step,
  action: 'noop',
  context: { tool_config: { kind: 'noop' }, args: {}, render_context: {} },
  meta: {},
});

/** A control plane whose answers to command ends hand over `b` after `start`, then nothing. */
async function startStub(): Promise<{ url: string; posts: Posted[]; close(): Promise<void> }> {
  const posts: Posted[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const body = chunks.length > 0 ? (JSON.parse(Buffer.concat(chunks).toString()) as Posted['body']) : {};
      posts.push({ path, body });
      let json: unknown = { status: 'ok' };
      if (path.endsWith('/claim')) json = command('start', '100');
      const ends = body.events?.find((e) => e.event_type === 'command.completed');
      if (ends && body.take && body.events?.[0]?.payload['command_id'] === '1:start:100')
        json = {
          status: 'ok',
          commands_generated: 1,
          claimed: [{ ...command('b', '200'), execution_pool: 'shared' }],
        };
      const text = JSON.stringify(json);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    posts,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function run(takeNext: boolean, pool?: string) {
  const stub = await startStub();
  const bus = new MemoryBus();
  const client = new ControlPlaneClient({ serverUrl: stub.url, timeoutMs: 5_000 });
  const worker = new Worker({
    workerId: 'w1',
    ...(pool !== undefined ? { pool } : {}),
    maxConcurrent: 1,
    heartbeatMs: 60_000,
    client,
    bus,
    registry: defaultRegistry(),
    logger: silentLogger,
    env: {},
    graceMs: 1_000,
    takeNext,
  });
  cleanup.push(() => stub.close());
  cleanup.push(async () => {
    await worker.stop();
    client.close();
    await bus.close();
  });
  await worker.start();
  await bus.publish({
    execution_id: '1',
    event_id: '100',
    command_id: '1:start:100',
    step: 'start',
    server_url: stub.url,
    execution_pool: pool ?? 'shared',
  });
  const ends = () =>
    stub.posts
      .filter((p) => p.path.startsWith('/api/events'))
      .filter((p) => p.body.events?.some((e) => e.event_type === 'command.completed'));
  const deadline = Date.now() + 10_000;
  while (ends().length < (takeNext ? 2 : 1)) {
    if (Date.now() > deadline) throw new Error(`timed out: ${JSON.stringify(stub.posts)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  await new Promise((r) => setTimeout(r, 100)); // nothing else follows
  return { posts: stub.posts, ends: ends() };
}

describe('a worker taking the next command with a command end', () => {
  it('runs the command handed over in the same slot, without claiming it itself', async () => {
    const { posts, ends } = await run(true, 'etl');
    expect(posts.filter((p) => p.path.endsWith('/claim'))).toHaveLength(1); // start's only
    expect(ends.map((p) => p.body.take)).toEqual([
      { max: 1, pool: 'etl' },
      { max: 1, pool: 'etl' },
    ]);
    expect(ends.map((p) => p.body.events?.[0]?.payload['command_id'])).toEqual(['1:start:100', '1:b:200']);
    expect(ends.map((p) => p.body.events?.map((e) => e.event_type))).toEqual([
      ['command.started', 'call.done', 'command.completed'],
      ['command.started', 'call.done', 'command.completed'],
    ]);
  }, 20_000);

  it('asks for nothing when takeNext is off', async () => {
    const { ends } = await run(false);
    expect(ends).toHaveLength(1);
    expect(ends[0]!.body.take).toBeUndefined();
  }, 20_000);
});
