import { describe, expect, it } from 'vitest';
import { compareIds, SnowflakeIdGenerator, snowflakeTime } from './ids.js';

describe('snowflake ids', () => {
  it('increase within one generator, even when the clock steps back', () => {
    let now = Date.UTC(2026, 0, 1);
    const ids = new SnowflakeIdGenerator({ now: () => now }, 3);
    const seen: string[] = [];
    for (let i = 0; i < 5000; i++) {
      if (i === 2500) now -= 1000;
      seen.push(ids.next());
    }
    for (let i = 1; i < seen.length; i++) expect(compareIds(seen[i]!, seen[i - 1]!)).toBeGreaterThan(0);
    expect(Math.abs(snowflakeTime(seen[0]!) - Date.UTC(2026, 0, 1))).toBeLessThan(5);
  });

  it('after observing a later id of another machine, ids exceed it', () => {
    const behind = new SnowflakeIdGenerator({ now: () => Date.UTC(2026, 0, 1) }, 1);
    const ahead = new SnowflakeIdGenerator({ now: () => Date.UTC(2026, 0, 1) + 2000 }, 900);
    const theirs = ahead.next();
    expect(compareIds(behind.next(), theirs)).toBeLessThan(0);
    behind.observe(theirs);
    expect(compareIds(behind.next(), theirs)).toBeGreaterThan(0);
    // same millisecond, higher machine id: still greater
    const same = new SnowflakeIdGenerator({ now: () => Date.UTC(2026, 0, 1) + 2000 }, 1);
    same.observe(theirs);
    expect(compareIds(same.next(), theirs)).toBeGreaterThan(0);
  });
});
