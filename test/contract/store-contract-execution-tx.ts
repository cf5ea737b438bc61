import { describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/index.js';
import { event, startExecution, type StoreFixture } from './store-fixtures.js';

/** The events of a type in an execution's log. */
async function ofType(store: Store, executionId: string, type: string) {
  return (await store.events.list(executionId)).filter((e) => e.eventType === type);
}

/**
 * An execution's transaction when the caller says how many events it expects the log to hold,
 * and when its last append is marked `last`. A store may use either to save round trips
 * (PostgreSQL: the body runs without waiting for the lock and the head, COMMIT goes with the
 * last append); the outcome must be the one of the plain transaction on every store.
 */
export function executionTxContract(get: () => StoreFixture): void {
  describe('execution transactions', () => {
    it('runs the body on the expected head and commits its last append', async () => {
      const { store, peer } = get();
      const s = await startExecution(store); // three events
      const heads: (number | undefined)[] = [];
      const done = event(s.executionId, 'call.done');
      const value = await store.withExecutionLock(
        s.executionId,
        async (tx, head) => {
          heads.push(head?.eventCount);
          const r = await tx.events.append({ events: [done], last: true });
          expect(r.events).toEqual([{ eventId: done.eventId, inserted: true }]);
          return 'ok';
        },
        () => 3,
      );
      expect(value).toBe('ok');
      expect(heads).toEqual([3]);
      // committed before the call returned, as another replica sees it
      expect((await (peer ?? store).executions.get(s.executionId))?.eventCount).toBe(4);
      expect((await (peer ?? store).events.get(s.executionId, done.eventId))?.eventType).toBe('call.done');
    });

    it('runs the body again on the head as read when the expected count is stale; the first run leaves nothing', async () => {
      const { store } = get();
      const s = await startExecution(store);
      const heads: (number | undefined)[] = [];
      await store.withExecutionLock(
        s.executionId,
        async (tx, head) => {
          heads.push(head?.eventCount);
          await tx.events.append({
            events: [event(s.executionId, 'call.done', { meta: { run: heads.length } })],
            last: true,
          });
        },
        () => 2, // the log holds three
      );
      expect(heads.at(-1)).toBe(3);
      const done = await ofType(store, s.executionId, 'call.done');
      expect(done.map((e) => e.meta?.['run'])).toEqual([heads.length]);
      expect((await store.executions.get(s.executionId))?.eventCount).toBe(4);
    });

    it('rolls back a transaction whose last append repeated an event', async () => {
      const { store } = get();
      const s = await startExecution(store);
      await store.events.append({ events: [event(s.executionId, 'call.done', { idempotencyKey: 'k1' })] });
      const fresh = event(s.executionId, 'step.exit');
      const repeat = event(s.executionId, 'call.done', { idempotencyKey: 'k1' });
      await expect(
        store.withExecutionLock(
          s.executionId,
          async (tx) => {
            const r = await tx.events.append({ events: [fresh, repeat], last: true });
            expect(r.events.map((e) => e.inserted)).toEqual([true, false]);
            throw new Error('the batch repeats stored events'); // what the caller must do
          },
          () => 4,
        ),
      ).rejects.toThrow('the batch repeats stored events');
      expect(await store.events.get(s.executionId, fresh.eventId)).toBeUndefined();
      expect((await store.executions.get(s.executionId))?.eventCount).toBe(4);
      // the store is fine afterwards
      const next = event(s.executionId, 'step.exit');
      await store.withExecutionLock(
        s.executionId,
        (tx) => tx.events.append({ events: [next], last: true }),
        () => 4,
      );
      expect((await store.executions.get(s.executionId))?.eventCount).toBe(5);
    });
  });
}
