/**
 * Decisions on the expected head (docs/architecture.md, src/store/ARCHITECTURE.md): on
 * PostgreSQL a decision made on the cached state does not wait for the execution's head; the
 * database checks that the log holds the events the cache accounts for. These tests pin down
 * when the orchestrator offers that count, and that a stale one still decides right.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Orchestrator } from '../../src/server/orchestrator/orchestrator.js';
import { createServerMetrics } from '../../src/server/metrics.js';
import { instrumentStore } from '../../src/server/store-metrics.js';
import { SnowflakeIdGenerator, systemClock } from '../../src/shared/index.js';
import type { Store } from '../../src/store/index.js';
import { postgresBackend, type TestBackend } from '../helpers/server-app.js';
import { RecordingBus } from '../helpers/recording-bus.js';
import { testOrchestrator } from '../helpers/orchestrator.js';

const THREE = `apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: three, path: t/expected/three }
workflow:
  - step: start
    tool: { kind: noop }
    next: [ { step: middle } ]
  - step: middle
    tool: { kind: noop }
    next: [ { step: end } ]
  - step: end
    tool: { kind: noop }
`;

interface Call {
  /** The count offered (undefined: the head is read first). */
  readonly expected: number | undefined;
  /** Times the body ran. */
  runs: number;
}

describe('decisions on the expected head (PostgreSQL)', () => {
  let backend: TestBackend;
  let bus: RecordingBus;
  let orchestrator: Orchestrator;
  const calls: Call[] = [];

  beforeAll(async () => {
    backend = await postgresBackend();
    const store = new Proxy(backend.store, {
      get(target, prop, receiver) {
        if (prop !== 'withExecutionLock') return Reflect.get(target, prop, receiver) as unknown;
        const lock: Store['withExecutionLock'] = (executionId, body, expectedCount) => {
          let call: Call | undefined;
          return target.withExecutionLock(
            executionId,
            (tx, head) => {
              call!.runs++;
              return body(tx, head);
            },
            () => {
              const expected = expectedCount?.();
              call = { expected, runs: 0 };
              calls.push(call);
              return expected;
            },
          );
        };
        return lock;
      },
    });
    bus = new RecordingBus();
    orchestrator = testOrchestrator(store, bus);
    await backend.store.catalog.register({ path: 't/expected/three', kind: 'Playbook', content: THREE });
  }, 60_000);

  afterAll(async () => {
    await orchestrator?.flushPublished();
    await backend?.dispose();
  });

  /** The log's events when `complete` posted. */
  let before = 0;
  /** Ends the execution's newest published command as a worker would. */
  const complete = async (id: string, via: 'orchestrator' | 'store') => {
    const n = bus.published.filter((p) => p.execution_id === id).at(-1)!;
    const claim =
      via === 'orchestrator'
        ? await orchestrator.claim(n.event_id, 'w1')
        : await backend.store.commands.claim(n.event_id, 'w1'); // behind the cache's back
    const key = claim.command.commandKey;
    before = (await backend.store.executions.get(id))!.eventCount;
    calls.length = 0;
    return orchestrator.ingest(id, [
      {
        execution_id: id,
        step: claim.command.stepName,
        event_type: 'command.started',
        payload: { command_id: key },
        worker_id: 'w1',
      },
      {
        execution_id: id,
        step: claim.command.stepName,
        event_type: 'command.completed',
        payload: { command_id: key, status: 'COMPLETED' },
        worker_id: 'w1',
      },
    ]);
  };

  it('offers the cached count while it is exact, and decides once on it', async () => {
    const { execution_id: id } = await orchestrator.execute({ path: 't/expected/three' });
    const r = await complete(id, 'orchestrator');
    expect(r.commands_generated).toBe(1);
    expect(calls).toEqual([{ expected: before, runs: 1 }]);
  });

  it('decides again on the log when the count is stale, and reads the head first from then on', async () => {
    const { execution_id: id } = await orchestrator.execute({ path: 't/expected/three' });
    // the claim's event is in the log, not in the cache's count: the offered count is stale
    const first = await complete(id, 'store');
    expect(first.commands_generated).toBe(1);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.expected).toBeTypeOf('number');
    expect(calls[0]!.runs).toBe(2); // rolled back by the head check, decided again
    const second = await complete(id, 'orchestrator');
    expect(second.commands_generated).toBe(1);
    expect(calls).toEqual([{ expected: undefined, runs: 1 }]); // contended: the head is read first
    const steps = (await backend.store.commands.listByExecution(id)).map((c) => c.stepName);
    expect(steps).toEqual(['start', 'middle', 'end']);
  });

  it('reads the head first after a status read folded events the count missed', async () => {
    const { execution_id: id } = await orchestrator.execute({ path: 't/expected/three' });
    const n = bus.published.filter((p) => p.execution_id === id).at(-1)!;
    await backend.store.commands.claim(n.event_id, 'w1'); // behind the cache's back
    // a status read (as the routes make it) folds the claim it reads
    await orchestrator.live.readCommitted(backend.store, id, (l) => l.state.status);
    const key = (await backend.store.commands.get(n.event_id))!.commandKey;
    calls.length = 0;
    const r = await orchestrator.ingest(id, [
      {
        execution_id: id,
        step: 'start',
        event_type: 'command.completed',
        payload: { command_id: key, status: 'COMPLETED' },
        worker_id: 'w1',
      },
    ]);
    expect(r.commands_generated).toBe(1);
    expect(calls).toEqual([{ expected: undefined, runs: 1 }]);
  });

  it('counts a decision run again in noetl_store_transaction_reruns_total', async () => {
    const metrics = createServerMetrics({ processMetrics: false });
    const store = instrumentStore(backend.store, metrics);
    const { executionId } = await startedBy(store);
    const reruns = async () =>
      (await metrics.transactionReruns.get()).values.find((v) => v.labels.kind === 'execution')?.value ?? 0;
    await store.withExecutionLock(
      executionId,
      () => Promise.resolve(),
      () => 0,
    ); // stale: the log holds one
    expect(await reruns()).toBe(1);
    const events = await store.events.list(executionId);
    await store.withExecutionLock(
      executionId,
      () => Promise.resolve(),
      () => events.length,
    ); // exact
    expect(await reruns()).toBe(1);
  });
});

/** An execution whose log holds one event. */
async function startedBy(store: Store): Promise<{ executionId: string }> {
  const ids = new SnowflakeIdGenerator(systemClock, 9);
  const executionId = ids.next();
  await store.events.append({
    execution: { executionId, catalogId: ids.next(), path: 't/expected/metrics' },
    events: [{ executionId, eventId: ids.next(), eventType: 'playbook_started', nodeName: 'playbook' }],
  });
  return { executionId };
}
