import { describe, expect, it } from 'vitest';
import type { ExecutionState } from '../../engine/index.js';
import type { CatalogRecord, StoreTx } from '../../store/index.js';
import { LiveExecutions, MAX_PLAYBOOKS, type TxRunner } from './live.js';

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

  describe('reads of committed state', () => {
    /** A store whose `events.list` answers no new event, counting calls; `onList` runs in each. */
    function store(onList?: (call: number) => void): { tx: TxRunner; lists: () => number } {
      let calls = 0;
      const tx = {
        events: {
          list: () => {
            calls++;
            onList?.(calls);
            return Promise.resolve([]);
          },
        },
      } as unknown as StoreTx;
      return { tx: { tx: (fn) => fn(tx) }, lists: () => calls };
    }

    it('wait while a decision holds the execution, then read', async () => {
      const live = new LiveExecutions();
      live.start('x', state('RUNNING'), '1', 1);
      const release = live.hold('x');
      const { tx, lists } = store();
      let seen: string | undefined;
      const read = live.readCommitted(tx, 'x', (l) => (seen = l.state.status));
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(seen).toBeUndefined();
      expect(lists()).toBe(0);
      release();
      release(); // a second call ends nothing more
      await read;
      expect(seen).toBe('RUNNING');
      expect(lists()).toBe(1);
    });

    it('wait for a decision that began while they read, and answer from what it committed', async () => {
      const live = new LiveExecutions();
      const x = live.start('x', state('RUNNING'), '1', 1);
      let release: (() => void) | undefined;
      const { tx, lists } = store((call) => {
        if (call === 1) release = live.hold('x'); // a decision takes the execution meanwhile
      });
      let seen: string | undefined;
      const read = live.readCommitted(tx, 'x', (l) => (seen = l.lastEventId));
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(lists()).toBe(1);
      live.fold(x, undefined, '5'); // the decision folds what it appends
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(seen).toBeUndefined(); // not answered from a state the decision is folding into
      release!();
      await read;
      expect(seen).toBe('5');
      expect(lists()).toBe(1);
    });
  });
});
