/**
 * The PostgreSQL adapter runs a transaction body again when the connection died before COMMIT
 * (fault-postgres found what went wrong). The orchestrator must then decide from the log, not
 * from the in-memory state the rolled-back run had already folded: otherwise the completion is
 * committed without the commands that follow it, and the execution waits forever.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { MemoryBus } from '../../src/bus/index.js';
import { Orchestrator } from '../../src/server/orchestrator/orchestrator.js';
import { SnowflakeIdGenerator, silentLogger, systemClock } from '../../src/shared/index.js';
import { openStore, type Store, type StoreTx } from '../../src/store/index.js';
import { templates } from '../../src/template/index.js';
import { createSchema, dropSchema, PG_URL } from '../helpers/pg-scratch.js';

class RolledBack extends Error {}

/** A store whose next execution-locked transaction runs its body twice, the first run rolled back. */
function retryingStore(inner: Store): { store: Store; retryNext: () => void } {
  let retry = false;
  const withExecutionLock = async <T>(id: string, fn: (tx: StoreTx) => Promise<T>): Promise<T> => {
    if (retry) {
      retry = false;
      await inner
        .withExecutionLock(id, async (tx) => {
          await fn(tx);
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
  schema = await createSchema('noetl_txretry');
  inner = await openStore({ databaseUrl: PG_URL, schema });
}, 60_000);

afterAll(async () => {
  await inner?.close();
  if (schema) await dropSchema(schema);
});

it('a retried ingest transaction still issues the next command', async () => {
  const { store, retryNext } = retryingStore(inner);
  const orchestrator = new Orchestrator({
    store,
    bus: new MemoryBus(),
    ids: new SnowflakeIdGenerator(systemClock, 7),
    clock: systemClock,
    templates: templates(),
    logger: silentLogger,
    serverUrl: 'http://127.0.0.1:1',
  });
  await store.catalog.register({ path: 'tests/fault/two', kind: 'playbook', content: PLAYBOOK });
  const { execution_id: id } = await orchestrator.execute({ path: 'tests/fault/two' });
  const [first] = await store.commands.listByExecution(id);
  expect(first?.stepName).toBe('start');
  await store.commands.claim(first!.commandId, 'w1');
  const event = (type: string) => ({
    execution_id: id,
    step: 'start',
    event_type: type,
    payload: { command_id: first!.commandKey },
    worker_id: 'w1',
  });
  retryNext();
  const r = await orchestrator.ingest(id, [event('call.done'), event('command.completed')]);
  expect(r.commands_generated).toBe(1);
  const steps = (await store.commands.listByExecution(id)).map((c) => c.stepName);
  expect(steps).toEqual(['start', 'end']);
});
