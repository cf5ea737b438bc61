import type { Logger } from '../../shared/index.js';
import type { CommandRecord } from '../../store/index.js';
import type { Orchestrator } from './orchestrator.js';

export interface SweepSettings {
  /** How often the sweeps run (ms). */
  readonly intervalMs: number;
  /** A committed command not published for this long is published by the sweep. */
  readonly unpublishedAfterMs: number;
  /** A published command nobody claimed for this long is published again. */
  readonly unclaimedAfterMs: number;
  /** A worker without heartbeat for this long is offline; its claimed commands are re-issued. */
  readonly workerOfflineAfterMs: number;
  /**
   * A command claimed this long ago and never started is re-issued: its claimant did not get
   * the claim's answer and gave the notification back. Default: `workerOfflineAfterMs`.
   */
  readonly unstartedAfterMs?: number;
}

export const DEFAULT_SWEEPS: SweepSettings = {
  intervalMs: 2_000,
  unpublishedAfterMs: 3_000,
  unclaimedAfterMs: 60_000,
  workerOfflineAfterMs: 60_000,
};

/**
 * Repairs what a crash can leave behind (DESIGN.md section 3): commands committed but never
 * published (outbox), commands published but lost by the bus, commands claimed by a worker that
 * stopped heartbeating (reaper), commands whose claim's answer was lost (claimed, never
 * started). The claim gate in the store keeps every repair exactly-once.
 */
export class Sweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly orchestrator: Orchestrator,
    private readonly logger: Logger,
    private readonly settings: SweepSettings = DEFAULT_SWEEPS,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.running ??= this.sweep()
        .catch((err: unknown) => this.logger.warn({ err: String(err) }, 'sweep failed'))
        .finally(() => {
          this.running = undefined;
        });
    }, this.settings.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private republish(commands: readonly CommandRecord[]): Promise<number> {
    return this.orchestrator.republish(commands);
  }

  /** One pass of every sweep. */
  async sweep(): Promise<void> {
    const { store } = this.orchestrator.deps;
    const s = this.settings;
    const unpublished = await store.commands.listUnpublished({
      olderThanMs: s.unpublishedAfterMs,
      limit: 500,
    });
    const unclaimed = await store.commands.listUnclaimed({ olderThanMs: s.unclaimedAfterMs, limit: 500 });
    const n = await this.republish([...unpublished, ...unclaimed]);
    const offline = await store.runtime.markOffline(s.workerOfflineAfterMs);
    const pools = await store.runtime.list({ kind: 'worker_pool', status: 'offline' });
    // A deregistered (inactive) worker holds nothing on purpose: whatever it still holds was
    // orphaned (killed after its grace period, before its own release got through).
    const gone = await store.runtime.list({ kind: 'worker_pool', status: 'inactive' });
    const names = [...new Set([...offline, ...pools.map((p) => p.name), ...gone.map((p) => p.name)])];
    let released = 0;
    if (names.length > 0) {
      for (const c of await store.commands.listClaimedBy(names)) {
        if (await store.commands.release(c.commandId, c.workerId ?? undefined)) released++;
      }
    }
    // Published right away (attempt + 1 gives them a new de-dup id), not on the next pass.
    const unstarted = await store.commands.releaseUnstarted({
      olderThanMs: s.unstartedAfterMs ?? s.workerOfflineAfterMs,
      limit: 500,
    });
    const reissued = await this.republish(unstarted);
    if (n + released + reissued > 0) {
      this.logger.info({ republished: n, released, unstarted: reissued }, 'sweep repaired commands');
    }
  }

  /**
   * Start-up of an embedded server (in-process bus and workers): nothing of the previous
   * process survives, so every claimed command is released and every pending one published.
   */
  async recoverEmbedded(): Promise<{ released: number; published: number }> {
    const { store } = this.orchestrator.deps;
    let released = 0;
    for (const c of await store.commands.listStale({ olderThanMs: 0, limit: 100_000 })) {
      if (await store.commands.release(c.commandId)) released++;
    }
    const pending = [
      ...(await store.commands.listUnpublished({ olderThanMs: 0, limit: 100_000 })),
      ...(await store.commands.listUnclaimed({ olderThanMs: 0, limit: 100_000 })),
    ];
    const published = await this.republish(pending);
    return { released, published };
  }
}
