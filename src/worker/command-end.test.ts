/**
 * Issue 12 part 2: every command a worker claims ends in `command.completed` or `command.failed`
 * that the control plane accepts. The control plane here is a local HTTP server (a stub of the
 * API, not of a database) that answers events as each case needs; the bus is the in-memory one.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryBus } from '../bus/index.js';
import { silentLogger } from '../shared/index.js';
import { defaultRegistry } from '../tools/index.js';
import { ControlPlaneClient } from '../client/index.js';
import { MAX_REFUSAL_MESSAGE_BYTES, Worker } from './worker.js';

interface PostedBody {
  readonly events?: { event_type: string; payload: Record<string, unknown> }[];
  readonly event_type?: string;
  readonly payload?: Record<string, unknown>;
}

/** What the stub does with one events post: answer with a status, or drop the connection. */
type EventsAnswer = { status: number; json: unknown } | 'drop';

interface Stub {
  readonly url: string;
  /** Every events post that reached the stub, with the answer it got. */
  readonly posts: { body: PostedBody; bytes: number; answer: EventsAnswer }[];
  close(): Promise<void>;
}

async function startStub(
  answer: (n: number, body: PostedBody) => EventsAnswer,
  tool: unknown,
  /** The answer to the n-th claim (0-based) when not the default 200. */
  claimAnswer?: (n: number) => { status: number; json: unknown } | undefined,
): Promise<Stub> {
  const posts: Stub['posts'] = [];
  let claims = 0;
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const raw = Buffer.concat(chunks);
      const reply = (status: number, json: unknown): void => {
        const text = JSON.stringify(json);
        res.writeHead(status, {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(text),
        });
        res.end(text);
      };
      if (path === '/api/events' || path === '/api/events/batch') {
        const body = JSON.parse(raw.toString('utf8')) as PostedBody;
        const a = answer(posts.length, body);
        posts.push({ body, bytes: raw.length, answer: a });
        if (a === 'drop') req.socket.destroy();
        else reply(a.status, a.json);
        return;
      }
      if (/^\/api\/commands\/[^/]+\/claim$/.test(path)) {
        const other = claimAnswer?.(claims++);
        if (other) {
          reply(other.status, other.json);
          return;
        }
        reply(200, {
          status: 'ok',
          event_id: '100',
          execution_id: '1',
          node_id: 'start',
          node_name: 'start',
          action: 'shell',
          context: { tool_config: tool, args: {}, render_context: {} },
        });
        return;
      }
      reply(200, { status: 'ok' }); // register, heartbeat, deregister, release
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    posts,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

const running: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  for (const r of running.splice(0).reverse()) await r.stop();
});

/** Runs one command through a worker against the stub; resolves when `until` holds. */
async function runOne(stub: Stub, until: () => boolean, maxBodyBytes?: number): Promise<void> {
  const bus = new MemoryBus();
  const client = new ControlPlaneClient({ serverUrl: stub.url, timeoutMs: 5_000 });
  const worker = new Worker({
    workerId: 'w1',
    maxConcurrent: 1,
    heartbeatMs: 60_000,
    client,
    bus,
    registry: defaultRegistry(),
    logger: silentLogger,
    env: { PATH: process.env['PATH'] },
    graceMs: 1_000,
    ...(maxBodyBytes !== undefined ? { maxBodyBytes } : {}),
  });
  running.push({ stop: () => stub.close() });
  running.push({
    stop: async () => {
      await worker.stop();
      client.close();
      await bus.close();
    },
  });
  await worker.start();
  await bus.publish({
    execution_id: '1',
    event_id: '100',
    command_id: '1:start:100',
    step: 'start',
    server_url: stub.url,
    execution_pool: '',
  });
  const deadline = Date.now() + 20_000;
  while (!until()) {
    if (Date.now() > deadline)
      throw new Error(`timed out; posts: ${JSON.stringify(stub.posts.map((p) => p.answer))}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const eventsOf = (body: PostedBody) =>
  body.events ?? [{ event_type: body.event_type ?? '', payload: body.payload ?? {} }];
const types = (body: PostedBody) => eventsOf(body).map((e) => e.event_type);
const ok = { status: 200, json: { status: 'ok' } };
const accepted = (stub: Stub) => stub.posts.filter((p) => p.answer !== 'drop' && p.answer.status === 200);
const ended = (stub: Stub) =>
  accepted(stub).some((p) => types(p.body).some((t) => t === 'command.completed' || t === 'command.failed'));

describe('a worker ends every command in an event the control plane accepts', () => {
  it('answers a refused post (400) with a minimal command.failed, message at most 4 KiB', async () => {
    const longReason = 'x'.repeat(20_000);
    // The control plane refuses any events carrying the result; takes anything else.
    const stub = await startStub(
      (_n, body) =>
        types(body).includes('call.done')
          ? { status: 400, json: { error: `body/events/1 is invalid: ${longReason}`, code: 'BAD_REQUEST' } }
          : ok,
      { kind: 'shell', command: 'echo hello' },
    );
    await runOne(stub, () => ended(stub));
    const refused = stub.posts.filter((p) => p.answer !== 'drop' && p.answer.status === 400);
    expect(refused).toHaveLength(1);
    const last = accepted(stub).at(-1)!;
    const failed = eventsOf(last.body).find((e) => e.event_type === 'command.failed')!;
    const error = failed.payload['error'] as Record<string, unknown>;
    expect(Object.keys(error).sort()).toEqual(['code', 'message']);
    expect(error['code']).toBe('STEP_FAILED');
    expect(error['message']).toMatch(/refused the step's events \(BAD_REQUEST/);
    expect(Buffer.byteLength(String(error['message']), 'utf8')).toBeLessThanOrEqual(
      MAX_REFUSAL_MESSAGE_BYTES,
    );
    expect(failed.payload['command_id']).toBe('1:start:100');
    expect(types(last.body)).not.toContain('call.done');
  }, 30_000);

  it('answers a 413 with command.failed RESULT_TOO_LARGE', async () => {
    const stub = await startStub(
      (_n, body) =>
        types(body).includes('call.done')
          ? { status: 413, json: { error: 'Request body is too large', code: 'PAYLOAD_TOO_LARGE' } }
          : ok,
      { kind: 'shell', command: 'echo hello' },
    );
    await runOne(stub, () => ended(stub));
    const last = accepted(stub).at(-1)!;
    const failed = eventsOf(last.body).find((e) => e.event_type === 'command.failed')!;
    const error = failed.payload['error'] as Record<string, unknown>;
    expect(error['code']).toBe('RESULT_TOO_LARGE');
    expect(error['message']).toMatch(/\d+ bytes/);
  }, 30_000);

  it('fails a result over the body limit with RESULT_TOO_LARGE and its size, without posting it', async () => {
    const stub = await startStub(() => ok, {
      kind: 'shell',
      command: "head -c 300000 /dev/zero | tr '\\0' 'a'",
    });
    await runOne(stub, () => ended(stub), 64 * 1024);
    // Nothing near the result's size was sent: no 413 can happen.
    for (const p of stub.posts) expect(p.bytes).toBeLessThan(64 * 1024);
    const all = stub.posts.flatMap((p) => eventsOf(p.body));
    expect(all.map((e) => e.event_type)).not.toContain('call.done');
    expect(all.map((e) => e.event_type)).not.toContain('command.completed');
    const failed = all.find((e) => e.event_type === 'command.failed')!;
    const error = failed.payload['error'] as {
      code: string;
      message: string;
      details: { bytes: number; limit: number };
    };
    expect(error.code).toBe('RESULT_TOO_LARGE');
    expect(error.details.limit).toBe(64 * 1024);
    expect(error.details.bytes).toBeGreaterThan(300_000);
    expect(error.message).toContain(String(error.details.bytes));
    const callError = all.find((e) => e.event_type === 'call.error')!;
    expect((callError.payload['error'] as { code: string }).code).toBe('RESULT_TOO_LARGE');
  }, 30_000);

  it('retries a post that cannot reach the server until it is taken', async () => {
    // The first three posts of the result lose their connection (the server is unreachable).
    const stub = await startStub((n) => (n < 3 ? 'drop' : ok), { kind: 'shell', command: 'echo hello' });
    await runOne(stub, () => ended(stub));
    expect(stub.posts.filter((p) => p.answer === 'drop').length).toBeGreaterThanOrEqual(3);
    const taken = accepted(stub).flatMap((p) => types(p.body));
    expect(taken).toContain('command.completed');
    expect(taken).not.toContain('command.failed');
    // The same events were sent each time: a retry, not a new report.
    const dropped = stub.posts.filter((p) => p.answer === 'drop').map((p) => types(p.body));
    for (const t of dropped) expect(taken).toEqual(expect.arrayContaining(t));
  }, 30_000);
});

describe('a claim that finds another claim in progress', () => {
  it('asks again shortly instead of dropping the notification (that claim may roll back)', async () => {
    // The first claim meets a take of the same command still in its transaction; by the time
    // the notification comes back, that transaction has rolled back and the claim succeeds.
    const inProgress = {
      status: 409,
      json: {
        error: 'command 100 cannot be claimed: another claim of it is in progress',
        status: 409,
        code: 'CONFLICT',
        details: { commandId: '100', reason: 'claim_in_progress' },
      },
    };
    const stub = await startStub(
      () => ok,
      { kind: 'noop' },
      (n) => (n === 0 ? inProgress : undefined),
    );
    await runOne(stub, () => ended(stub));
    const last = accepted(stub).at(-1)!;
    expect(types(last.body)).toContain('command.completed');
  }, 30_000);
});
