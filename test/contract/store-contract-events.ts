import { describe, expect, it } from 'vitest';
import { event, ids, startExecution, type StoreFixture } from './store-fixtures.js';

export function eventContract(get: () => StoreFixture): void {
  describe('events', () => {
    it('appends an event once: a repeat changes nothing', async () => {
      const { store } = get();
      const { executionId } = await startExecution(store);
      const e = event(executionId, 'call.done', { context: { result: { x: 1 } } });
      const first = await store.events.append({ events: [e] });
      const again = await store.events.append({ events: [{ ...e, context: { result: { x: 2 } } }] });
      expect(first.events).toEqual([{ eventId: e.eventId, inserted: true }]);
      expect(again.events).toEqual([{ eventId: e.eventId, inserted: false }]);
      const stored = await store.events.get(executionId, e.eventId);
      expect(stored?.context).toEqual({ result: { x: 1 } });
      expect((await store.executions.get(executionId))?.eventCount).toBe(4);
    });

    it('dedups on the idempotency key and returns the first id', async () => {
      const { store } = get();
      const { executionId } = await startExecution(store);
      const a = event(executionId, 'call.done', { idempotencyKey: 'k1' });
      const b = event(executionId, 'call.done', { idempotencyKey: 'k1' });
      await store.events.append({ events: [a] });
      const r = await store.events.append({ events: [b] });
      expect(r.events).toEqual([{ eventId: a.eventId, inserted: false }]);
      expect(await store.events.get(executionId, b.eventId)).toBeUndefined();
    });

    it('keeps snowflake ids beyond 2^53 exact', async () => {
      const { store } = get();
      const executionId = '9007199254740993';
      const eventId = '9223372036854775807';
      await store.events.append({
        events: [event(executionId, 'playbook_started', { eventId, catalogId: '9007199254740995' })],
      });
      const [e] = await store.events.list(executionId);
      expect(e?.eventId).toBe(eventId);
      expect(e?.executionId).toBe(executionId);
      expect(e?.catalogId).toBe('9007199254740995');
      expect((await store.executions.get(executionId))?.lastEventId).toBe(eventId);
    });

    it('lists events by event_id with paging, type filter and counts', async () => {
      const { store } = get();
      const executionId = ids.next();
      const made = Array.from({ length: 25 }, (_, i) =>
        event(executionId, i % 5 === 0 ? 'step.enter' : 'call.done', { currentIndex: i }),
      );
      // written out of order, in several transactions
      for (const chunk of [made.slice(10), made.slice(0, 10).reverse()]) {
        await store.events.append({ events: chunk });
      }
      const all = await store.events.list(executionId);
      expect(all.map((e) => e.eventId)).toEqual(made.map((e) => e.eventId));
      const pages: string[][] = [];
      let after: string | undefined;
      for (;;) {
        const page = await store.events.list(executionId, {
          limit: 10,
          ...(after ? { afterEventId: after } : {}),
        });
        if (page.length === 0) break;
        pages.push(page.map((e) => e.eventId));
        after = page.at(-1)?.eventId;
      }
      expect(pages.map((p) => p.length)).toEqual([10, 10, 5]);
      expect(pages.flat()).toEqual(made.map((e) => e.eventId));
      const enters = await store.events.list(executionId, { types: ['step.enter'] });
      expect(enters.map((e) => e.currentIndex)).toEqual([0, 5, 10, 15, 20]);
      expect(await store.events.countByType(executionId)).toEqual({ 'step.enter': 5, 'call.done': 20 });
    });

    it('stores every envelope field', async () => {
      const { store } = get();
      const executionId = ids.next();
      const e = event(executionId, 'call.error', {
        catalogId: ids.next(),
        parentEventId: ids.next(),
        parentExecutionId: ids.next(),
        createdAt: '2026-03-01T10:00:00.123Z',
        nodeId: 'n1',
        nodeType: 'http',
        status: 'FAILED',
        duration: 12.5,
        context: [1, 'two', { three: 3 }],
        result: { status: 'FAILED', context: { error: 'x' } },
        meta: { actionable: true },
        error: 'bad gateway',
        workerId: 'w-1',
        commandKey: 'k:step1:1',
      });
      await store.events.append({ events: [e] });
      const got = await store.events.get(executionId, e.eventId);
      expect(got).toMatchObject({
        eventType: 'call.error',
        catalogId: e.catalogId,
        parentEventId: e.parentEventId,
        parentExecutionId: e.parentExecutionId,
        createdAt: '2026-03-01T10:00:00.123Z',
        nodeId: 'n1',
        nodeName: 'step1',
        nodeType: 'http',
        status: 'FAILED',
        duration: 12.5,
        context: [1, 'two', { three: 3 }],
        result: { status: 'FAILED', context: { error: 'x' } },
        meta: { actionable: true },
        error: 'bad gateway',
        workerId: 'w-1',
        commandKey: 'k:step1:1',
      });
    });

    it('rejects a result outside the contract shape and writes nothing of the batch', async () => {
      const { store } = get();
      const executionId = ids.next();
      const good = event(executionId, 'step.enter');
      const bad = event(executionId, 'call.done', { result: { status: 'OK', data: 1 } });
      await expect(store.events.append({ events: [good, bad] })).rejects.toMatchObject({
        code: 'BAD_REQUEST',
      });
      expect(await store.events.list(executionId)).toEqual([]);
      expect(await store.executions.get(executionId)).toBeUndefined();
    });

    it('reads the workload from playbook_started when the execution row has none', async () => {
      const { store } = get();
      const executionId = ids.next();
      const path = `tests/workload-once/${executionId}`;
      const workload = { items: [{ id: 1, name: "it's" }, { id: 2 }], n: 9007199254740993n.toString() };
      // what the server writes: the workload once, in the start event's context
      await store.events.append({
        execution: { executionId, path },
        events: [
          event(executionId, 'playbook_started', {
            nodeName: 'playbook',
            nodeType: 'execution',
            context: { execution_id: executionId, path, workload },
          }),
          event(executionId, 'step.enter', { context: { step: 'start' } }),
        ],
      });
      expect((await store.executions.get(executionId))?.workload).toEqual(workload);
      expect((await store.executions.list({ path })).map((x) => x.workload)).toEqual([workload]);
      expect((await store.executions.page({ limit: 5, pathPrefix: path })).executions).toMatchObject([
        { executionId, workload },
      ]);
      // neither in the row nor in an event: none
      const bare = ids.next();
      await store.events.append({ execution: { executionId: bare }, events: [event(bare, 'step.enter')] });
      expect((await store.executions.get(bare))?.workload).toBeNull();
    });

    it('projects executions: status only from terminal events, the first one wins', async () => {
      const { store } = get();
      const { executionId, catalogId } = await startExecution(store, { path: 'tests/projection' });
      let x = await store.executions.get(executionId);
      expect(x).toMatchObject({
        status: 'RUNNING',
        catalogId,
        path: 'tests/projection',
        workload: { n: 1 },
        endTime: null,
      });
      // the same row without its workload, which may be large (status and event reads)
      const { workload, ...rest } = x!;
      expect(workload).toEqual({ n: 1 });
      const overview = await store.executions.overview(executionId);
      expect(overview).toEqual(rest);
      expect(overview).not.toHaveProperty('workload');
      expect(await store.executions.overview('123456789')).toBeUndefined();
      await store.events.append({ events: [event(executionId, 'command.failed', { error: 'step broke' })] });
      expect((await store.executions.get(executionId))?.status).toBe('RUNNING');
      await store.events.append({
        events: [
          event(executionId, 'playbook.failed', { nodeName: 'playbook', error: 'Failed steps: step1' }),
        ],
      });
      await store.events.append({
        events: [event(executionId, 'playbook.completed', { nodeName: 'playbook' })],
      });
      x = await store.executions.get(executionId);
      expect(x).toMatchObject({
        status: 'FAILED',
        error: 'Failed steps: step1',
        lastEventType: 'playbook.completed',
      });
      expect(x?.endTime).not.toBeNull();
      expect(Date.parse(x?.endTime ?? '')).toBeGreaterThanOrEqual(Date.parse(x?.startTime ?? ''));
    });
  });
}
