import type { Clock } from './clock.js';

/** Epoch of NoETL snowflake ids: 2024-01-01T00:00:00Z. */
export const SNOWFLAKE_EPOCH_MS = 1704067200000;

export interface IdGenerator {
  /** A new snowflake id as a decimal string (ids exceed 2^53, so never a JS number). */
  next(): string;
  /**
   * Makes every later id greater than `id` (an id another process wrote): replicas whose clocks
   * differ still write an execution's events in increasing order under its lock.
   */
  observe?(id: string): void;
}

/** 2^22: the bits below an id's millisecond (machine, sequence). */
const MS_SHIFT = 4194304;
/** Ids are built from numbers while (ms - epoch) stays below this (2^41 ms: until 2093). */
const NUMBER_MS_LIMIT = 2 ** 41;

/**
 * The decimal text of `ms * 2^22 + low` without BigInt (ids exceed 2^53, so the sum is carried
 * in two parts of 8 decimal digits each way; every product stays below 2^53). For
 * 0 <= ms < 2^41 and 0 <= low < 2^22 it equals `((BigInt(ms) << 22n) | BigInt(low)).toString()`.
 */
function idText(ms: number, low: number): string {
  const high = Math.floor(ms / 1e8);
  const sum = (ms - high * 1e8) * MS_SHIFT + low;
  const digits = sum % 1e8;
  const top = high * MS_SHIFT + (sum - digits) / 1e8;
  return top === 0 ? String(digits) : `${top}${String(digits).padStart(8, '0')}`;
}

/**
 * Snowflake ids as the Rust server makes them: ((ms - epoch) << 22) | (machine << 12) | seq.
 * Monotonic within one generator even if the clock steps back. Kept as numbers (a BigInt per
 * operation cost microseconds per id in a cold process); BigInt only outside the number range.
 */
export class SnowflakeIdGenerator implements IdGenerator {
  private lastMs = -1;
  private seq = 0;
  private readonly machine: number;

  constructor(
    private readonly clock: Clock,
    machineId = 0,
  ) {
    if (!Number.isInteger(machineId) || machineId < 0 || machineId > 1023) {
      throw new RangeError(`machine id must be 0..1023, got ${machineId}`);
    }
    this.machine = machineId;
  }

  observe(id: string): void {
    let value: bigint;
    try {
      value = BigInt(id);
    } catch {
      return;
    }
    if (Number((value >> 12n) & 0x3ffn) === this.machine) return; // our own ids already increase
    const ms = Number(value >> 22n);
    if (ms >= this.lastMs) {
      // Next id: the millisecond after the observed one (its machine bits may exceed ours).
      this.lastMs = ms;
      this.seq = 0xfff;
    }
  }

  next(): string {
    const now = this.clock.now() - SNOWFLAKE_EPOCH_MS;
    if (!Number.isInteger(now)) throw new RangeError(`the clock's time is not a whole millisecond: ${now}`);
    let ms = now < this.lastMs ? this.lastMs : now;
    if (ms === this.lastMs) {
      this.seq = (this.seq + 1) & 0xfff;
      if (this.seq === 0) ms = this.lastMs + 1; // sequence exhausted: borrow the next millisecond
    } else {
      this.seq = 0;
    }
    this.lastMs = ms;
    const low = this.machine * 4096 + this.seq;
    if (ms >= 0 && ms < NUMBER_MS_LIMIT) return idText(ms, low);
    return ((BigInt(ms) << 22n) | BigInt(low)).toString();
  }
}

/** Milliseconds since the Unix epoch encoded in a snowflake id. */
export function snowflakeTime(id: string): number {
  return Number(BigInt(id) >> 22n) + SNOWFLAKE_EPOCH_MS;
}

/** Compares two decimal id strings numerically. */
export function compareIds(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}
