import { describe, expect, it } from 'vitest';
import { ClaimBacklog } from './backlog.js';

describe('ClaimBacklog', () => {
  it('lists the oldest waiting commands of a pool in publish order', () => {
    const b = new ClaimBacklog();
    b.published(['c1', 'c2'], 'shared');
    b.published(['g1'], 'gpu');
    b.published(['c3', 'c1'], 'shared'); // a repeat keeps its place
    expect(b.oldest('shared', 2)).toEqual(['c1', 'c2']);
    expect(b.oldest('shared', 9)).toEqual(['c1', 'c2', 'c3']);
    expect(b.oldest('gpu', 9)).toEqual(['g1']);
    expect(b.oldest('none', 9)).toEqual([]);
    expect(b.waitingIn('shared')).toBe(3);
  });

  it('drops a claimed command and hands back its bus receipt', () => {
    const b = new ClaimBacklog();
    b.published(['c1', 'c2'], 'shared');
    b.receipt('c1', { seq: 7 });
    b.receipt('zz', { seq: 8 }); // not waiting: ignored
    expect(b.claimed('c1')).toEqual({ seq: 7 });
    expect(b.claimed('c1')).toBeUndefined(); // a repeat changes nothing
    expect(b.claimed('c2')).toBeUndefined(); // no receipt yet
    expect(b.waitingIn('shared')).toBe(0);
    expect(b.oldest('shared', 1)).toEqual([]);
  });

  it('forgets a notification not seen claimed within its expiry (claimed through another replica)', () => {
    let now = 0;
    const b = new ClaimBacklog(5_000, () => now);
    b.published(['c1'], 'shared');
    now = 2_000;
    b.published(['c2'], 'shared');
    expect(b.waitingIn('shared')).toBe(2);
    now = 5_000;
    expect(b.oldest('shared', 9)).toEqual(['c2']);
    now = 7_000;
    expect(b.waitingIn('shared')).toBe(0);
  });
});
