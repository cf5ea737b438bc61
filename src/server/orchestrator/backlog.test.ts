import { describe, expect, it } from 'vitest';
import { ClaimBacklog } from './backlog.js';

describe('ClaimBacklog', () => {
  it('reserves the oldest waiting command of a pool, each for one take at a time', () => {
    const b = new ClaimBacklog();
    b.published(['c1', 'c2'], 'shared');
    b.published(['g1'], 'gpu');
    b.published(['c3', 'c1'], 'shared'); // a repeat keeps its place
    expect(b.waitingIn('shared')).toBe(3);
    expect(b.reserveOldest('shared')).toBe('c1');
    expect(b.reserveOldest('shared')).toBe('c2'); // c1 is being claimed by the first
    b.release('c1'); // that claim did not happen: c1 waits again, first in line
    expect(b.reserveOldest('shared')).toBe('c1');
    expect(b.reserveOldest('shared')).toBe('c3');
    expect(b.reserveOldest('shared')).toBeUndefined();
    expect(b.reserveOldest('gpu')).toBe('g1');
    expect(b.reserveOldest('none')).toBeUndefined();
  });

  it('drops a claimed command and hands back its bus receipt', () => {
    const b = new ClaimBacklog();
    b.published(['c1', 'c2'], 'shared');
    b.receipt('c1', { seq: 7 });
    b.receipt('zz', { seq: 8 }); // not waiting: ignored
    expect(b.reserveOldest('shared')).toBe('c1');
    expect(b.claimed('c1')).toEqual({ seq: 7 });
    expect(b.claimed('c1')).toBeUndefined(); // a repeat changes nothing
    expect(b.claimed('c2')).toBeUndefined(); // no receipt yet
    expect(b.waitingIn('shared')).toBe(0);
    expect(b.reserveOldest('shared')).toBeUndefined();
  });

  it('forgets a notification not seen claimed within its expiry (claimed through another replica)', () => {
    let now = 0;
    const b = new ClaimBacklog(5_000, () => now);
    b.published(['c1'], 'shared');
    now = 2_000;
    b.published(['c2'], 'shared');
    expect(b.waitingIn('shared')).toBe(2);
    now = 5_000;
    expect(b.reserveOldest('shared')).toBe('c2');
    now = 7_000;
    expect(b.waitingIn('shared')).toBe(0);
  });
});
