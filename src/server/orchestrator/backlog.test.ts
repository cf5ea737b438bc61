import { describe, expect, it } from 'vitest';
import { ClaimBacklog } from './backlog.js';

describe('ClaimBacklog', () => {
  it('lets an execution take any number in a row while its pool has nothing waiting', () => {
    const b = new ClaimBacklog(2);
    for (let i = 0; i < 10; i++) {
      expect(b.mayTake('x1', 'shared')).toBe(true);
      b.took('x1');
    }
  });

  it('holds an execution to the quantum while notifications wait, and resets it on a publish', () => {
    const b = new ClaimBacklog(2);
    b.published('x2', ['c1'], 'shared');
    b.took('x1');
    b.took('x1');
    expect(b.mayTake('x1', 'shared')).toBe(false);
    expect(b.mayTake('x1', 'gpu')).toBe(true); // nothing waits in that pool
    b.published('x1', ['c2'], 'shared'); // its next went to the queue
    expect(b.mayTake('x1', 'shared')).toBe(true);
    expect(b.waitingIn('shared')).toBe(2);
    b.claimed('c1');
    b.claimed('c2');
    b.claimed('c2'); // a repeat changes nothing
    expect(b.waitingIn('shared')).toBe(0);
  });

  it('forgets a notification not seen claimed within its expiry (claimed through another replica)', () => {
    let now = 0;
    const b = new ClaimBacklog(1, 5_000, () => now);
    b.published('x2', ['c1'], 'shared');
    b.took('x1');
    expect(b.mayTake('x1', 'shared')).toBe(false);
    now = 5_000;
    expect(b.waitingIn('shared')).toBe(0);
    expect(b.mayTake('x1', 'shared')).toBe(true);
  });
});
