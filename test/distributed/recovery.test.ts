/**
 * Recovery paths the fault tests found broken, pinned down deterministically on a real
 * PostgreSQL schema (no processes, no timing):
 * - the pg adapter runs a transaction body again when the connection died before COMMIT; the
 *   orchestrator must then decide from the log, not from the in-memory state the rolled-back
 *   run had folded (else the completion commits without the commands that follow it);
 * - a claim whose answer was lost (server killed after COMMIT) leaves the command CLAIMED by a
 *   live worker that is not running it; the sweep re-issues claimed-but-never-started commands.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { MemoryBus, type CommandNotification } from '../../src/bus/index.js';
import { Orchestrator } from '../../src/server/orchestrator/orchestrator.js';
import { Sweeper } from '../../src/server/orchestrator/sweeps.js';
import { SnowflakeIdGenerator, silentLogger, systemClock } from '../../src/shared/index.js';
import { openStore, type Store, type StoreTx } from '../../src/store/index.js';
import { templates } from '../../src/template/index.js';
import { createSchema, dropSchema, PG_URL } from '../helpers/pg-scratch.js';
import { commitAfterBody } from '../helpers/store-tx.js';

class RolledBack extends Error {}

/** A store whose next execution-locked transaction runs its body twice, the first run rolled back. */
function retryingStore(inner: Store): { store: Store; retryNext: () => void } {
  let retry = false;
  const withExecutionLock = async <T>(id: string, fn: (tx: StoreTx) => Promise<T>): Promise<T> => {
    if (retry) {
      retry = false;
      await inner
        .withExecutionLock(id, async (tx) => {
          await fn(commitAfterBody(tx)); // COMMIT not sent yet when the connection is lost
          throw new RolledBack('connection lost before COMMIT');
        })
        .catch((err: unknown) => {
          if (!(err instanceof RolledBack)) throw err;
        });
    }
    return inner.withExecutionLock(id, fn);
  };
  const store = new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'withExecutionLock') return withExecutionLock;
      const value: unknown = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { store, retryNext: () => (retry = true) };
}

const PLAYBOOK = `apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: two, path: tests/fault/two }
workflow:
  - step: start
    tool: { kind: noop }
    next: [ end ]
  - step: end
    tool: { kind: noop }
`;

let schema: string;
let inner: Store;

beforeAll(async () => {
  schema = await createSchema('noetl_recovery');
  inner = await openStore({ databaseUrl: PG_URL, schema });
  await inner.catalog.register({ path: 'tests/fault/two', kind: 'playbook', content: PLAYBOOK });
}, 60_000);

afterAll(async () => {
  await inner?.close();
  if (schema) await dropSchema(schema);
});

function orchestratorOn(store: Store, bus = new MemoryBus()): Orchestrator {
  return new Orchestrator({
    store,
    bus,
    ids: new SnowflakeIdGenerator(systemClock, 7),
    clock: systemClock,
    templates: templates(),
    logger: silentLogger,
    serverUrl: 'http://127.0.0.1:1',
  });
}

function workerEvent(executionId: string, commandKey: string, type: string) {
  return {
    execution_id: executionId,
    step: 'start',
    event_type: type,
    payload: { command_id: commandKey },
    worker_id: 'w1',
  };
}

it('a retried ingest transaction still issues the next command', async () => {
  const { store, retryNext } = retryingStore(inner);
  const orchestrator = orchestratorOn(store);
  const { execution_id: id } = await orchestrator.execute({ path: 'tests/fault/two' });
  const [first] = await store.commands.listByExecution(id);
  expect(first?.stepName).toBe('start');
  await store.commands.claim(first!.commandId, 'w1');
  retryNext();
  const r = await orchestrator.ingest(id, [
    workerEvent(id, first!.commandKey, 'call.done'),
    workerEvent(id, first!.commandKey, 'command.completed'),
  ]);
  expect(r.commands_generated).toBe(1);
  const steps = (await store.commands.listByExecution(id)).map((c) => c.stepName);
  expect(steps).toEqual(['start', 'end']);
});

it('the sweep re-issues a command claimed but never started, and leaves started ones alone', async () => {
  const bus = new MemoryBus();
  const orchestrator = orchestratorOn(inner, bus);
  const sweeper = new Sweeper(orchestrator, silentLogger, {
    intervalMs: 60_000,
    unpublishedAfterMs: 60_000,
    unclaimedAfterMs: 60_000,
    workerOfflineAfterMs: 60_000,
    unstartedAfterMs: 0,
  });
  const published: CommandNotification[] = [];
  const sub = await bus.subscribe({}, (n) => void published.push(n), { maxInFlight: 4 });
  try {
    const a = (await orchestrator.execute({ path: 'tests/fault/two' })).execution_id;
    const b = (await orchestrator.execute({ path: 'tests/fault/two' })).execution_id;
    const [lost] = await inner.commands.listByExecution(a);
    const [started] = await inner.commands.listByExecution(b);
    await inner.commands.claim(lost!.commandId, 'w1'); // its answer never reached w1
    await inner.commands.claim(started!.commandId, 'w1');
    await orchestrator.ingest(b, [workerEvent(b, started!.commandKey, 'command.started')]);
    published.length = 0;
    // A pass skips rows another transaction holds (SKIP LOCKED): sweep until it is released.
    await expect
      .poll(async () => {
        await sweeper.sweep();
        return (await inner.commands.get(lost!.commandId))?.status;
      })
      .toBe('PENDING');
    const after = await inner.commands.get(lost!.commandId);
    expect({ status: after?.status, attempt: after?.attempt, worker: after?.workerId }).toEqual({
      status: 'PENDING',
      attempt: 2,
      worker: null,
    });
    expect((await inner.commands.get(started!.commandId))?.status).toBe('RUNNING');
    await expect.poll(() => published.map((n) => n.command_id)).toEqual([lost!.commandKey]);
    // claimable again, by anyone
    await expect(inner.commands.claim(lost!.commandId, 'w2')).resolves.toMatchObject({
      alreadyClaimed: false,
    });
  } finally {
    await sub.stop();
    await bus.close();
  }
});
