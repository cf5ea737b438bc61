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

/**
 * Snowflake ids as the Rust server makes them: ((ms - epoch) << 22) | (machine << 12) | seq.
 * Monotonic within one generator even if the clock steps back.
 */
export class SnowflakeIdGenerator implements IdGenerator {
  private lastMs = -1n;
  private seq = 0n;
  private readonly machine: bigint;

  constructor(
    private readonly clock: Clock,
    machineId = 0,
  ) {
    if (!Number.isInteger(machineId) || machineId < 0 || machineId > 1023) {
      throw new RangeError(`machine id must be 0..1023, got ${machineId}`);
    }
    this.machine = BigInt(machineId);
  }

  observe(id: string): void {
    let value: bigint;
    try {
      value = BigInt(id);
    } catch {
      return;
    }
    if (((value >> 12n) & 0x3ffn) === this.machine) return; // our own ids already increase
    const ms = value >> 22n;
    if (ms >= this.lastMs) {
      // Next id: the millisecond after the observed one (its machine bits may exceed ours).
      this.lastMs = ms;
      this.seq = 0xfffn;
    }
  }

  next(): string {
    let ms = BigInt(this.clock.now() - SNOWFLAKE_EPOCH_MS);
    if (ms < this.lastMs) ms = this.lastMs;
    if (ms === this.lastMs) {
      this.seq = (this.seq + 1n) & 0xfffn;
      if (this.seq === 0n) ms = this.lastMs + 1n; // sequence exhausted: borrow the next millisecond
    } else {
      this.seq = 0n;
    }
    this.lastMs = ms;
    return ((ms << 22n) | (this.machine << 12n) | this.seq).toString();
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
