import { describe, expect, it } from 'vitest';
import type { ExecutionState } from '../../engine/index.js';
import type { CatalogRecord, StoreTx } from '../../store/index.js';
import { LiveExecutions, MAX_PLAYBOOKS } from './live.js';

/** Only `status` matters to the cache's bookkeeping. */
function state(status: string): ExecutionState {
  return { status } as unknown as ExecutionState;
}

describe('LiveExecutions', () => {
  it('keeps running executions and only the most recent finished ones', () => {
    const live = new LiveExecutions();
    for (let i = 0; i < 10; i++) live.start(`r${i}`, state('RUNNING'), '1', 1);
    for (let i = 0; i < 1000; i++) {
      live.start(`f${i}`, state('COMPLETED'), '1', 1);
      live.settled(`f${i}`);
    }
    expect(live.size).toBe(10 + 256);
    for (let i = 0; i < 10; i++) live.settled(`r${i}`); // still running: stay
    expect(live.size).toBe(266);
  });

  it('lets an execution that finishes later join the finished ones once', () => {
    const live = new LiveExecutions();
    const s = state('RUNNING');
    live.start('x', s, '1', 1);
    live.settled('x');
    (s as { status: string }).status = 'FAILED';
    live.settled('x');
    live.settled('x');
    for (let i = 0; i < 255; i++) {
      live.start(`f${i}`, state('COMPLETED'), '1', 1);
      live.settled(`f${i}`);
    }
    expect(live.size).toBe(256);
    live.start('last', state('COMPLETED'), '1', 1);
    live.settled('last'); // 'x' finished first: it leaves
    expect(live.size).toBe(256);
    live.forget('last');
    expect(live.size).toBe(255);
  });

  describe('parsed playbooks', () => {
    const content = (name: string): string =>
      `apiVersion: noetl.io/v2\nkind: Playbook\nmetadata: { name: ${name} }\nworkflow:\n  - step: start\n    tool: { kind: noop }\n`;
    /** A transaction whose catalog counts its reads: each read of an entry is followed by a parse. */
    function catalog(): { tx: StoreTx; reads: string[] } {
      const reads: string[] = [];
      const get = (catalogId: string): Promise<CatalogRecord> => {
        reads.push(catalogId);
        return Promise.resolve({
          catalogId,
          path: catalogId,
          version: 1,
          content: content(catalogId),
        } as CatalogRecord);
      };
      return { tx: { catalog: { get } } as unknown as StoreTx, reads };
    }

    it('parses a catalog version once', async () => {
      const live = new LiveExecutions();
      const { tx, reads } = catalog();
      const first = await live.playbook(tx, 'p1');
      const second = await live.playbook(tx, 'p1');
      expect(second).toBe(first);
      expect(first.metadata.name).toBe('p1');
      expect(reads).toEqual(['p1']);
    });

    it('keeps the most recently used playbooks when the cache is full', async () => {
      const live = new LiveExecutions();
      const { tx, reads } = catalog();
      await live.playbook(tx, 'hot');
      for (let i = 0; i < MAX_PLAYBOOKS * 2; i++) {
        await live.playbook(tx, `cold${i}`);
        await live.playbook(tx, 'hot'); // used all along: never leaves
      }
      expect(reads.filter((id) => id === 'hot')).toHaveLength(1);
      await live.playbook(tx, `cold${MAX_PLAYBOOKS * 2 - 1}`); // recent: still cached
      await live.playbook(tx, 'cold0'); // the least recently used left long ago
      expect(reads.filter((id) => id === 'cold0')).toHaveLength(2);
      expect(reads).toHaveLength(1 + MAX_PLAYBOOKS * 2 + 1);
    });
  });

  describe('turns at an execution', () => {
    it('are given in the order asked, one at a time', async () => {
      const live = new LiveExecutions();
      const order: string[] = [];
      const first = (await live.turn('x'))!;
      const second = live.turn('x').then((end) => {
        order.push('second');
        end!();
      });
      const third = live.turn('x').then((end) => {
        order.push('third');
        end!();
      });
      const other = live.turn('y').then((end) => {
        order.push('other execution');
        end!();
      });
      await other;
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(order).toEqual(['other execution']);
      first();
      first(); // a second call ends nothing more
      await Promise.all([second, third]);
      expect(order).toEqual(['other execution', 'second', 'third']);
      // all ended: the next turn is given at once
      const again = await live.turn('x', 0);
      expect(again).toBeTypeOf('function');
      again!();
    });

    it('are given up after the timeout without holding up the ones behind', async () => {
      const live = new LiveExecutions();
      const first = (await live.turn('x'))!;
      const waited = await live.turn('x', 30);
      expect(waited).toBeUndefined();
      const behind = live.turn('x');
      first();
      const end = await behind;
      expect(end).toBeTypeOf('function');
      end!();
    });
  });
});
