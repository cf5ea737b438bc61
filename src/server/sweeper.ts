import { errorMessage } from '../shared/index.js';
import type { Logger } from '../shared/index.js';
import type { RuntimeStore } from '../store/index.js';

export interface RuntimeSweeperOptions {
  readonly runtime: Pick<RuntimeStore, 'markOffline'>;
  /** Seconds between sweeps (`NOETL_RUNTIME_SWEEP_INTERVAL`). */
  readonly intervalSeconds: number;
  /** Silence after which a runtime is offline (`NOETL_RUNTIME_OFFLINE_SECONDS`). */
  readonly offlineSeconds: number;
  readonly logger: Logger;
}

/**
 * Marks worker pools (and other runtimes) offline when they stop heartbeating (contract 5:
 * offline after 60 s, checked every 30 s). `start()` and `stop()` are idempotent; `stop()` waits
 * for a sweep in flight. A failing sweep is logged and the next one tries again.
 */
export class RuntimeSweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<string[]> | undefined;

  constructor(private readonly options: RuntimeSweeperOptions) {}

  get started(): boolean {
    return this.timer !== undefined;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      void this.sweep();
    }, this.options.intervalSeconds * 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  /** One sweep now; returns the names marked offline (empty on failure). Sweeps never overlap. */
  sweep(): Promise<string[]> {
    this.running ??= this.options.runtime
      .markOffline(this.options.offlineSeconds * 1000)
      .then((names) => {
        if (names.length > 0) {
          this.options.logger.info({ runtimes: names }, `marked ${names.length} runtime(s) offline`);
        }
        return names;
      })
      .catch((error: unknown) => {
        this.options.logger.warn({ err: errorMessage(error) }, 'runtime sweep failed');
        return [];
      })
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }
}
