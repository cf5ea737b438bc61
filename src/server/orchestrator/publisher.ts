import { resolvePool, type CommandBus, type PublishReceipt } from '../../bus/index.js';
import type { Command } from '../../engine/index.js';
import { errorMessage, type JsonObject, type Logger } from '../../shared/index.js';
import type { CommandRecord, Store } from '../../store/index.js';
import { notificationFor } from './mapping.js';

export interface PublisherDeps {
  readonly store: Store;
  readonly bus: CommandBus;
  readonly logger: Logger;
  /** Put into notifications so workers know where to claim. */
  readonly serverUrl: string;
  /** The bus's receipt of a first publish (buses that can withdraw a notification). */
  readonly onReceipt?: (commandId: string, receipt: PublishReceipt) => void;
}

/** How long published command ids wait to be marked in one UPDATE. */
const FLUSH_DELAY_MS = 20;

/**
 * The bus de-dup id of a re-publish. The bus drops a publish whose id it saw within its window
 * (JetStream: 2 minutes), and the first publish used the command id. So:
 * - never published, first attempt (crash between commit and publish): the command id, so a
 *   publish that did reach the stream is not stored twice;
 * - released by the reaper or a stopping worker (attempt + 1, published_at cleared): one id per
 *   attempt, or the re-issue would be dropped and the command would wait minutes;
 * - published but never claimed (the stream's copy is presumed lost): one id per sweep round.
 * The ids are derived from the row, so replicas sweeping the same row publish it once.
 */
function republishDedupId(c: CommandRecord): string | undefined {
  if (c.publishedAt === null) return c.attempt <= 1 ? undefined : `${c.commandKey}#${c.attempt}`;
  return `${c.commandKey}#${c.attempt}@${Date.parse(c.publishedAt)}`;
}

/**
 * Publishes the notifications of committed commands (the command row is the outbox entry, see
 * sweeps.ts for the repair of a publish lost in a crash).
 */
export class Publisher {
  private readonly published: string[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;

  constructor(private readonly deps: PublisherDeps) {}

  /**
   * Publishes notifications of committed commands. Marking them published is batched off the
   * request path (one UPDATE per flush): a command whose mark is lost in a crash is at worst
   * published again by the sweep, and the claim gate makes that harmless.
   */
  async publish(
    commands: readonly Command[],
    pool: string,
    traceOf?: (command: Command) => JsonObject | undefined,
  ): Promise<void> {
    if (commands.length === 0) return;
    // Every notification goes out at once and the acks are awaited together: a batch of executes
    // or a fan-out costs one round trip, not one per command (awaited one by one, the eighth of
    // eight executions started together waited for seven acks first). They are sent in order on
    // one connection, so the stream keeps their order.
    const outcomes = await Promise.allSettled(
      commands.map((c) =>
        this.deps.bus.publish(
          notificationFor(c, this.deps.serverUrl, c.execution_pool ?? pool, traceOf?.(c)),
        ),
      ),
    );
    let failure: unknown;
    outcomes.forEach((outcome, i) => {
      const c = commands[i]!;
      if (outcome.status === 'rejected') {
        failure ??= outcome.reason;
        return;
      }
      if (outcome.value !== undefined) this.deps.onReceipt?.(c.event_id, outcome.value);
      this.published.push(c.event_id);
    });
    if (failure !== undefined) {
      this.deps.logger.warn({ err: errorMessage(failure) }, 'publish failed; the outbox sweep will retry');
    }
    this.flushSoon();
  }

  private flushSoon(): void {
    if (this.flushTimer || this.published.length === 0) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      void this.flush();
    }, FLUSH_DELAY_MS);
  }

  /** Marks published commands in the store (also on shutdown). */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.published.length === 0) return;
    const ids = this.published.splice(0, this.published.length);
    this.flushing = this.deps.store.commands
      .markPublished(ids)
      .then(() => undefined)
      .catch((err: unknown) => {
        this.deps.logger.warn(
          { err: String(err), commands: ids.length },
          'marking commands published failed',
        );
      })
      .finally(() => {
        this.flushing = undefined;
      });
    await this.flushing;
  }

  /** Publishes notifications for stored command rows again (sweeps, release). */
  async republish(
    commands: readonly CommandRecord[],
    traceOf?: (command: CommandRecord) => JsonObject | undefined,
  ): Promise<number> {
    const done: string[] = [];
    for (const c of commands) {
      const pool = resolvePool({ ...(c.executionPool ? { execution_pool: c.executionPool } : {}) });
      const dedupId = republishDedupId(c);
      await this.deps.bus.publish(
        notificationFor(
          { execution_id: c.executionId, event_id: c.commandId, command_id: c.commandKey, step: c.stepName },
          this.deps.serverUrl,
          pool,
          traceOf?.(c),
        ),
        dedupId === undefined ? {} : { dedupId },
      );
      done.push(c.commandId);
    }
    if (done.length > 0) await this.deps.store.commands.markPublished(done);
    return done.length;
  }
}
