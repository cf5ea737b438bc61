import type { PublishReceipt } from '../../bus/index.js';

interface Waiting {
  readonly pool: string;
  readonly at: number;
  /** The bus's handle on the notification, once its publish was acknowledged. */
  receipt?: PublishReceipt;
  /** A take of this process is claiming it (concurrent takes pass it by). */
  reserved?: boolean;
}

/**
 * Commands this process published that no claim has taken yet, per pool, oldest first: the
 * queue a worker's take (the command handed over in the answer to its last command's end) must
 * not jump. While a pool has commands waiting, the worker is handed the oldest of them and the
 * new command joins the queue behind them, so every command waits its turn (first in, first
 * out) and a chain cannot keep a slot while others wait. docs/benchmarks.md has the p99 step
 * latency this rule gives against the rule before it (an execution could take one command in a
 * row past the queue). Kept in memory and only roughly right (a claim through another replica is
 * not seen: its entry expires), which costs at worst some speed, never a command: the claim gate
 * decides who runs what.
 */
export class ClaimBacklog {
  private readonly waiting = new Map<string, Waiting>();
  /** Per pool, the ids of `waiting` in publish order. */
  private readonly pools = new Map<string, Set<string>>();
  private prunedAt = 0;

  constructor(
    /** A notification not seen claimed within this is taken as claimed elsewhere. */
    private readonly expiryMs = 5_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Notifications are being published for these commands in `pool`. */
  published(commandIds: readonly string[], pool: string): void {
    const at = this.now();
    let ids = this.pools.get(pool);
    for (const id of commandIds) {
      if (this.waiting.has(id)) continue;
      this.waiting.set(id, { pool, at });
      if (!ids) this.pools.set(pool, (ids = new Set()));
      ids.add(id);
    }
  }

  /** The bus acknowledged the notification of `commandId`, with a handle to withdraw it. */
  receipt(commandId: string, receipt: PublishReceipt): void {
    const entry = this.waiting.get(commandId);
    if (entry) entry.receipt = receipt;
  }

  /**
   * The command was claimed (or is known not to be claimable); returns the bus receipt of its
   * notification when this process published it and the bus acknowledged it.
   */
  claimed(commandId: string): PublishReceipt | undefined {
    const entry = this.waiting.get(commandId);
    if (!entry) return undefined;
    this.drop(commandId, entry.pool);
    return entry.receipt;
  }

  /**
   * The oldest command waiting in `pool` that no take is claiming, reserved for the caller (who
   * ends the reservation with `claimed` or `release`); undefined when there is none.
   */
  reserveOldest(pool: string): string | undefined {
    this.prune();
    const ids = this.pools.get(pool);
    if (!ids) return undefined;
    for (const id of ids) {
      const entry = this.waiting.get(id);
      if (entry === undefined || entry.reserved === true) continue;
      entry.reserved = true;
      return id;
    }
    return undefined;
  }

  /** A reservation ended without a claim: the command waits as before. */
  release(commandId: string): void {
    const entry = this.waiting.get(commandId);
    if (entry) entry.reserved = false;
  }

  /** Notifications of `pool` waiting to be claimed. */
  waitingIn(pool: string): number {
    this.prune();
    return this.pools.get(pool)?.size ?? 0;
  }

  private prune(): void {
    const now = this.now();
    if (now - this.prunedAt < 1_000) return;
    this.prunedAt = now;
    for (const [id, entry] of this.waiting) {
      if (now - entry.at < this.expiryMs) break; // in publish order: the rest are younger
      this.drop(id, entry.pool);
    }
  }

  private drop(id: string, pool: string): void {
    this.waiting.delete(id);
    const ids = this.pools.get(pool);
    if (!ids) return;
    ids.delete(id);
    if (ids.size === 0) this.pools.delete(pool);
  }
}
