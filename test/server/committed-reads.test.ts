/**
 * Reads outside an execution's lock (the status, summary and result routes) show what is
 * committed only. A decision folds the events it appends into the cached state before its
 * transaction commits; a status read in that window once answered COMPLETED while the events
 * route, reading the log, did not list the `command.completed` yet (a CI failure of
 * test/distributed/worker-instance.test.ts). On PostgreSQL only: PGlite runs one transaction
 * at a time, so no read runs while a decision's transaction is open.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Orchestrator } from '../../src/server/orchestrator/orchestrator.js';
import { orchestrationRoutes } from '../../src/server/routes/orchestration.js';
import type { Store } from '../../src/store/index.js';
import {
  postgresBackend,
  startTestServer,
  type TestBackend,
  type TestServer,
} from '../helpers/server-app.js';
import { commitAfterBody } from '../helpers/store-tx.js';
import { RecordingBus } from '../helpers/recording-bus.js';
import { testOrchestrator } from '../helpers/orchestrator.js';

const ONE = `apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: one, path: t/committed/one }
workflow:
  - step: start
    tool: { kind: noop }
`;

describe('reads outside the lock on PostgreSQL', () => {
  let backend: TestBackend;
  let server: TestServer;
  let bus: RecordingBus;
  let orchestrator: Orchestrator;
  let release!: () => void;
  let bodyDone!: Promise<void>;
  let arm!: () => void;

  beforeAll(async () => {
    backend = await postgresBackend();
    let openGate!: () => void;
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    release = openGate;
    let done!: () => void;
    bodyDone = new Promise<void>((resolve) => (done = resolve));
    let armed = false;
    arm = () => (armed = true);
    // execution transactions wait for the gate after their body, before the commit, once armed
    const store = new Proxy(backend.store, {
      get(target, prop, receiver) {
        if (prop !== 'withExecutionLock') return Reflect.get(target, prop, receiver) as unknown;
        return (executionId: string, body: Parameters<Store['withExecutionLock']>[1]) =>
          target.withExecutionLock(executionId, async (tx, head) => {
            // COMMIT after the body, not with its last append: the pause below then holds an
            // uncommitted decision open.
            const value = await body(commitAfterBody(tx), head);
            if (armed) {
              armed = false;
              done();
              await gate;
            }
            return value;
          });
      },
    });
    bus = new RecordingBus();
    orchestrator = testOrchestrator(store, bus);
    server = await startTestServer(backend, {
      plugins: [orchestrationRoutes({ orchestrator, store })],
    });
    await backend.store.catalog.register({ path: 't/committed/one', kind: 'Playbook', content: ONE });
  }, 60_000);

  afterAll(async () => {
    release?.();
    await orchestrator?.flushPublished();
    await server?.close();
    await backend?.dispose();
  });

  it('status, summary and result wait for a decision to commit; events agree with them', async () => {
    const { execution_id: id } = await orchestrator.execute({ path: 't/committed/one' });
    const first = bus.published.find((n) => n.execution_id === id)!;
    const claimed = await orchestrator.claim(first.event_id, 'w1');
    const key = claimed.command.commandKey;
    const event = (event_type: string, payload: Record<string, unknown>) => ({
      execution_id: id,
      step: 'start',
      event_type,
      payload: { command_id: key, ...payload },
      worker_id: 'w1',
    });
    arm();
    const ingest = orchestrator.ingest(id, [
      event('command.started', {}),
      event('call.done', { call_index: 0, result: { status: 'success', context: { status: 'success' } } }),
      event('command.completed', { status: 'COMPLETED' }),
    ]);
    await bodyDone; // folded, not committed
    expect(orchestrator.live.peek(id)?.state.status).toBe('COMPLETED');

    const get = (route: string) =>
      server.app.inject({ method: 'GET', url: `/api/executions/${id}/${route}` });
    const answers = Promise.all([get('status'), get('summary'), get('result')]);
    const settledFirst = await Promise.race([
      answers.then(() => 'answered'),
      new Promise((resolve) => setTimeout(resolve, 300, 'waiting')),
    ]);
    expect(settledFirst).toBe('waiting');
    // the log does not hold the completion yet
    const before = await server.app.inject({ method: 'GET', url: `/api/executions/${id}/events` });
    expect(before.json<{ events: { event_type: string }[] }>().events.map((e) => e.event_type)).not.toContain(
      'command.completed',
    );

    release();
    await ingest;
    const [status, summary, result] = await answers;
    expect(status.json()).toMatchObject({ status: 'COMPLETED' });
    expect(summary.json()).toMatchObject({ status: 'COMPLETED' });
    expect(result.json()).toMatchObject({ status: 'COMPLETED' });
    const after = await server.app.inject({ method: 'GET', url: `/api/executions/${id}/events` });
    expect(after.json<{ events: { event_type: string }[] }>().events.map((e) => e.event_type)).toContain(
      'command.completed',
    );
  });
});
