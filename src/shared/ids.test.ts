import { describe, expect, it } from 'vitest';
import { compareIds, SNOWFLAKE_EPOCH_MS, SnowflakeIdGenerator, snowflakeTime } from './ids.js';

/** The BigInt generator the number-based one replaced: every id must be the same. */
class BigIntReference {
  private lastMs = -1n;
  private seq = 0n;
  constructor(
    private readonly now: () => number,
    private readonly machine: bigint,
  ) {}
  next(): string {
    let ms = BigInt(this.now() - SNOWFLAKE_EPOCH_MS);
    if (ms < this.lastMs) ms = this.lastMs;
    if (ms === this.lastMs) {
      this.seq = (this.seq + 1n) & 0xfffn;
      if (this.seq === 0n) ms = this.lastMs + 1n;
    } else {
      this.seq = 0n;
    }
    this.lastMs = ms;
    return ((ms << 22n) | (this.machine << 12n) | this.seq).toString();
  }
}

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

  it('are the ids of the BigInt formula, over the whole number range and beyond it', () => {
    // random times (before the epoch too, and past 2093 where BigInt takes over), steps back,
    // runs of one millisecond long enough to exhaust the sequence
    let seed = 42;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (const machine of [0, 1, 777, 1023]) {
      let now = SNOWFLAKE_EPOCH_MS - 5;
      const clock = (): number => now;
      const ours = new SnowflakeIdGenerator({ now: clock }, machine);
      const reference = new BigIntReference(clock, BigInt(machine));
      for (let i = 0; i < 20_000; i++) {
        const r = random();
        if (r < 0.01) now = SNOWFLAKE_EPOCH_MS + Math.floor(random() * 2 ** 42);
        else if (r < 0.02) now -= Math.floor(random() * 5000);
        else if (r < 0.5) now += 1;
        expect(ours.next()).toBe(reference.next());
      }
      for (const at of [-1, 0, 1, 99_999_999, 100_000_000, 2 ** 41 - 1, 2 ** 41, 2 ** 45]) {
        const fixed = (): number => SNOWFLAKE_EPOCH_MS + at;
        const a = new SnowflakeIdGenerator({ now: fixed }, machine);
        const b = new BigIntReference(fixed, BigInt(machine));
        for (let i = 0; i < 3; i++) expect(a.next()).toBe(b.next());
      }
    }
  });
});
