/**
 * Server-sent event streams from the event log (issue 13): an execution's stream from the start,
 * resumed after an id, ended by the terminal event; the stream of every new event; and, on
 * PostgreSQL, a replica streaming events another replica wrote.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryBus } from '../../src/bus/index.js';
import { Orchestrator } from '../../src/server/orchestrator/orchestrator.js';
import { orchestrationRoutes } from '../../src/server/routes/orchestration.js';
import { silentLogger, SnowflakeIdGenerator, systemClock } from '../../src/shared/index.js';
import { openStore, type Store } from '../../src/store/index.js';
import { readEvents } from '../../src/cli/api/watch.js';
import { ControlPlaneClient, type EventView } from '../../src/client/index.js';
import { startFakeApi } from '../helpers/fake-api.js';
import { templates } from '../../src/template/index.js';
import { startTestServer as startEmbedded, type RunningServer } from '../helpers/embedded-server.js';
import {
  postgresBackend,
  startTestServer,
  TEST_DATABASE_URL,
  type TestBackend,
  type TestServer,
} from '../helpers/server-app.js';

interface Message {
  id?: string;
  event?: string;
  data?: Record<string, unknown>;
  comment?: string;
}

/** Reads SSE messages from a fetch response until `until` says stop or the stream ends. */
async function readStream(
  res: Response,
  until: (messages: Message[]) => boolean = () => false,
  timeoutMs = 30_000,
): Promise<{ messages: Message[]; ended: boolean }> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const messages: Message[] = [];
  let buffer = '';
  const timer = setTimeout(() => void reader.cancel(), timeoutMs);
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return { messages, ended: true };
      buffer += decoder.decode(value, { stream: true });
      let cut: number;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const m: Message = {};
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) m.comment = line.slice(1).trim();
          else if (line.startsWith('id: ')) m.id = line.slice(4);
          else if (line.startsWith('event: ')) m.event = line.slice(7);
          else if (line.startsWith('data: ')) m.data = JSON.parse(line.slice(6)) as Record<string, unknown>;
        }
        if (m.id !== undefined) messages.push(m);
      }
      if (until(messages)) {
        await reader.cancel();
        return { messages, ended: false };
      }
    }
  } finally {
    clearTimeout(timer);
  }
}

const CHAIN = `apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: chain, path: tests/streams/chain }
workflow:
  - step: start
    tool: { kind: shell, command: "sleep 0.3; echo one" }
    next: [ second ]
  - step: second
    tool: { kind: shell, command: "echo two" }
    next: [ end ]
  - step: end
    tool: { kind: shell, command: "echo three" }
`;

describe('event streams on the embedded server (PGlite)', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startEmbedded();
    await server.register(CHAIN);
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
  });

  it("streams an execution's events as GET .../events lists them and ends after the terminal one", async () => {
    const started = await server.post<{ execution_id: string }>('/api/execute', {
      path: 'tests/streams/chain',
    });
    const id = started.body.execution_id;
    const res = await fetch(`${server.url}/api/executions/${id}/stream`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const { messages, ended } = await readStream(res);
    expect(ended).toBe(true);
    const log = await server.get<{ events: Record<string, unknown>[] }>(`/api/executions/${id}/events`);
    expect(messages.map((m) => m.data)).toEqual(log.body.events);
    expect(messages.map((m) => m.id)).toEqual(log.body.events.map((e) => e['event_id']));
    expect(messages.map((m) => m.event)).toEqual(log.body.events.map((e) => e['event_type']));
    expect(messages.at(-1)?.event).toBe('playbook.completed');
    expect(messages.filter((m) => m.event === 'command.completed')).toHaveLength(3);
  }, 60_000);

  it('resumes after Last-Event-ID or ?after= with the events after it only', async () => {
    const started = await server.post<{ execution_id: string }>('/api/execute', {
      path: 'tests/streams/chain',
    });
    const id = started.body.execution_id;
    await server.waitFor(id);
    const log = (await server.get<{ events: { event_id: string }[] }>(`/api/executions/${id}/events`)).body
      .events;
    const third = log[2]!.event_id;
    const byHeader = await readStream(
      await fetch(`${server.url}/api/executions/${id}/stream`, { headers: { 'last-event-id': third } }),
    );
    expect(byHeader.messages.map((m) => m.id)).toEqual(log.slice(3).map((e) => e.event_id));
    const byQuery = await readStream(await fetch(`${server.url}/api/executions/${id}/stream?after=${third}`));
    expect(byQuery.messages.map((m) => m.id)).toEqual(log.slice(3).map((e) => e.event_id));
  }, 60_000);

  it('streams new events of every execution, filtered by type or execution', async () => {
    const all = await fetch(`${server.url}/api/events/stream?types=playbook_started,playbook.completed`);
    expect(all.status).toBe(200);
    const ids: string[] = [];
    const reading = readStream(
      all,
      (ms) =>
        ids.length === 2 &&
        ids.every((x) => ms.some((m) => m.event === 'playbook.completed' && m.data?.['execution_id'] === x)),
    );
    for (let i = 0; i < 2; i++) {
      ids.push(
        (await server.post<{ execution_id: string }>('/api/execute', { path: 'tests/streams/chain' })).body
          .execution_id,
      );
    }
    const { messages } = await reading;
    expect(messages.every((m) => m.event === 'playbook_started' || m.event === 'playbook.completed')).toBe(
      true,
    );
    for (const x of ids) {
      expect(messages.filter((m) => m.data?.['execution_id'] === x).map((m) => m.event)).toEqual([
        'playbook_started',
        'playbook.completed',
      ]);
    }
    const one = await server.post<{ execution_id: string }>('/api/execute', { path: 'tests/streams/chain' });
    const id = one.body.execution_id;
    const only = await readStream(
      await fetch(`${server.url}/api/events/stream?execution_id=${id}&after=0`),
      (ms) => ms.some((m) => m.event === 'playbook.completed'),
    );
    const log = (await server.get<{ events: { event_id: string }[] }>(`/api/executions/${id}/events`)).body
      .events;
    expect(only.messages.map((m) => m.id)).toEqual(log.map((e) => e.event_id));
  }, 60_000);

  it("the CLI's --wait reads the stream: no polling while it lasts", async () => {
    const started = await server.post<{ execution_id: string }>('/api/execute', {
      path: 'tests/streams/chain',
    });
    const id = started.body.execution_id;
    // A client that cannot poll (nothing listens there): only the stream can deliver.
    const noPolling = new ControlPlaneClient({ serverUrl: 'http://127.0.0.1:1' });
    const seen: EventView[] = [];
    const status = await readEvents(noPolling, id, (e) => seen.push(e), {
      follow: true,
      stream: { baseUrl: server.url },
    });
    expect(status).toBe('COMPLETED');
    const log = await server.get<{ events: EventView[] }>(`/api/executions/${id}/events`);
    expect(seen).toEqual(log.body.events);
  }, 60_000);

  it('the CLI falls back to polling on a server without the stream (404)', async () => {
    const started = await server.post<{ execution_id: string }>('/api/execute', {
      path: 'tests/streams/chain',
    });
    const id = started.body.execution_id;
    await server.waitFor(id);
    const log = (await server.get<{ status: string; events: EventView[] }>(`/api/executions/${id}/events`))
      .body;
    // An older server: the events route, no stream route.
    const old = await startFakeApi((_req, url) => {
      if (url.pathname !== `/api/executions/${id}/events`) return undefined;
      const after = url.searchParams.get('after');
      const rest =
        after === null ? log.events : log.events.slice(log.events.findIndex((e) => e.event_id === after) + 1);
      return { json: { execution_id: id, status: log.status, events: rest } };
    });
    try {
      const client = new ControlPlaneClient({ serverUrl: old.url });
      const seen: EventView[] = [];
      const status = await readEvents(client, id, (e) => seen.push(e), {
        follow: true,
        stream: { baseUrl: old.url },
      });
      expect(status).toBe('COMPLETED');
      expect(seen).toEqual(log.events);
      expect(old.requests[0]?.path).toBe(`/api/executions/${id}/stream`);
      expect(old.requests.filter((r) => r.path.endsWith('/events')).length).toBeGreaterThan(0);
    } finally {
      await old.close();
    }
  }, 60_000);

  it('answers 404 for an unknown execution and 400 for a malformed id', async () => {
    const unknown = await fetch(`${server.url}/api/executions/999999999999999999/stream`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ code: 'NOT_FOUND' });
    const bad = await fetch(`${server.url}/api/executions/1/stream`, { headers: { 'last-event-id': 'x' } });
    expect([400, 404]).toContain(bad.status);
    const started = await server.post<{ execution_id: string }>('/api/execute', {
      path: 'tests/streams/chain',
    });
    const badId = await fetch(`${server.url}/api/executions/${started.body.execution_id}/stream`, {
      headers: { 'last-event-id': 'abc' },
    });
    expect(badId.status).toBe(400);
    expect((await fetch(`${server.url}/api/events/stream?execution_id=999999999999999999`)).status).toBe(404);
    await server.waitFor(started.body.execution_id);
  }, 60_000);
});

describe('event streams across replicas (PostgreSQL)', () => {
  let backend: TestBackend;
  let writer: TestServer;
  let readerStore: Store;
  let reader: TestServer;
  let readerUrl: string;
  const bus = new MemoryBus();

  beforeAll(async () => {
    backend = await postgresBackend();
    const orchestrator = new Orchestrator({
      store: backend.store,
      bus,
      ids: new SnowflakeIdGenerator(systemClock),
      clock: systemClock,
      templates: templates(),
      logger: silentLogger,
      serverUrl: 'http://127.0.0.1:1',
    });
    writer = await startTestServer(backend, {
      plugins: [orchestrationRoutes({ orchestrator, store: backend.store })],
      env: { NOETL_API_TOKEN: 'tok' },
    });
    // A second replica: its own store (pool) on the same schema, no orchestrator at all.
    readerStore = await openStore({ databaseUrl: TEST_DATABASE_URL, schema: backend.schema });
    reader = await startTestServer({ ...backend, store: readerStore }, { env: { NOETL_API_TOKEN: 'tok' } });
    readerUrl = await reader.app.listen({ host: '127.0.0.1', port: 0 });
    const reg = await writer.app.inject({
      method: 'POST',
      url: '/api/catalog/register',
      headers: { authorization: 'Bearer tok' },
      payload: { content: CHAIN },
    });
    expect(reg.statusCode, reg.body).toBe(200);
  }, 120_000);

  afterAll(async () => {
    await reader?.close();
    await readerStore?.close();
    await writer?.close();
    await bus.close();
    await backend?.dispose();
  });

  it('needs the token', async () => {
    expect((await fetch(`${readerUrl}/api/events/stream`)).status).toBe(401);
  });

  it("streams on one replica the events another replica writes, and the execution's stream from the start", async () => {
    const auth = { authorization: 'Bearer tok' };
    const live = await fetch(`${readerUrl}/api/events/stream`, { headers: auth });
    expect(live.status).toBe(200);
    let id = '';
    const reading = readStream(
      live,
      (ms) => id !== '' && ms.some((m) => m.data?.['execution_id'] === id && m.event === 'command.issued'),
    );
    const started = await writer.app.inject({
      method: 'POST',
      url: '/api/execute',
      headers: auth,
      payload: { path: 'tests/streams/chain' },
    });
    id = started.json<{ execution_id: string }>().execution_id;
    const { messages } = await reading;
    const mine = messages.filter((m) => m.data?.['execution_id'] === id).map((m) => m.event);
    expect(mine).toEqual(['playbook_started', 'step.enter', 'command.issued']);

    // Its stream on the reader: the history so far, then a terminal event written by the writer.
    const res = await fetch(`${readerUrl}/api/executions/${id}/stream`, { headers: auth });
    const following = readStream(res);
    const fin = await writer.app.inject({
      method: 'POST',
      url: `/api/executions/${id}/finalize`,
      headers: auth,
      payload: { status: 'FAILED', error: 'stopped by the test' },
    });
    expect(fin.statusCode, fin.body).toBe(200);
    const { messages: all, ended } = await following;
    expect(ended).toBe(true);
    expect(all.slice(0, 3).map((m) => m.event)).toEqual(['playbook_started', 'step.enter', 'command.issued']);
    expect(all.at(-1)?.event).toBe('playbook.failed');
  }, 60_000);

  it('ends open streams when the server closes', async () => {
    const other = await startTestServer({ ...backend, store: readerStore });
    const url = await other.app.listen({ host: '127.0.0.1', port: 0 });
    const res = await fetch(`${url}/api/events/stream`);
    const reading = readStream(res);
    await other.close();
    const { ended } = await reading;
    expect(ended).toBe(true);
  }, 30_000);
});
