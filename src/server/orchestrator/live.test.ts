import { describe, expect, it } from 'vitest';
import type { ExecutionState } from '../../engine/index.js';
import { LiveExecutions } from './live.js';

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
});
