/**
 * Commands this process published that no claim through it has taken yet, per pool, and how
 * many commands in a row each execution handed straight to a worker (`take`). Handing over is
 * free of a queue: while a pool has notifications waiting, an execution that took `quantum`
 * commands in a row publishes its next one instead, so it queues behind the waiting ones (a
 * chain cannot keep a slot while others wait a whole chain for one). The default, 1, took the
 * p99 step latency of 16 chains on 8 slots from 669-1,091 ms (no quantum) to 181-196 ms, the
 * build that queued every step's 176-286 ms (docs/benchmarks.md). Kept in memory and only
 * roughly right (a claim through another replica is not seen: its entry expires), which costs
 * at worst some speed, never a command: the claim gate decides who runs what.
 */
export class ClaimBacklog {
  private readonly waiting = new Map<string, { pool: string; at: number }>();
  private readonly perPool = new Map<string, number>();
  private readonly carried = new Map<string, number>();
  private prunedAt = 0;

  constructor(
    /** Commands an execution may take in a row while its pool has notifications waiting. */
    private readonly quantum = 1,
    /** A notification not seen claimed within this is taken as claimed elsewhere. */
    private readonly expiryMs = 5_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Notifications published for these commands (of `executionId`) in `pool`. */
  published(executionId: string, commandIds: readonly string[], pool: string): void {
    this.carried.delete(executionId);
    const at = this.now();
    for (const id of commandIds) {
      if (this.waiting.has(id)) continue;
      this.waiting.set(id, { pool, at });
      this.perPool.set(pool, (this.perPool.get(pool) ?? 0) + 1);
    }
  }

  /** A command was claimed (its notification, if this process published one, is no longer waiting). */
  claimed(commandId: string): void {
    const entry = this.waiting.get(commandId);
    if (!entry) return;
    this.waiting.delete(commandId);
    this.drop(entry.pool);
  }

  /** May `executionId` take one more command of `pool`? */
  mayTake(executionId: string, pool: string): boolean {
    return (this.carried.get(executionId) ?? 0) < this.quantum || this.waitingIn(pool) === 0;
  }

  /** `executionId` handed a command straight to a worker. */
  took(executionId: string): void {
    const n = (this.carried.get(executionId) ?? 0) + 1;
    this.carried.delete(executionId); // re-inserted: the map stays in least-recent order
    this.carried.set(executionId, n);
    if (this.carried.size > 10_000) {
      const oldest = this.carried.keys().next();
      if (oldest.done !== true) this.carried.delete(oldest.value);
    }
  }

  /** Notifications of `pool` waiting to be claimed. */
  waitingIn(pool: string): number {
    const now = this.now();
    if (now - this.prunedAt >= 1_000) {
      this.prunedAt = now;
      for (const [id, entry] of this.waiting) {
        if (now - entry.at < this.expiryMs) break; // in publish order: the rest are younger
        this.waiting.delete(id);
        this.drop(entry.pool);
      }
    }
    return this.perPool.get(pool) ?? 0;
  }

  private drop(pool: string): void {
    const n = (this.perPool.get(pool) ?? 1) - 1;
    if (n > 0) this.perPool.set(pool, n);
    else this.perPool.delete(pool);
  }
}
