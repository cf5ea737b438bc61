import { errorMessage, isoTime, NoetlError, type Clock, type Logger } from '../../shared/index.js';
import type { ScheduleInput, ScheduleRecord, Store } from '../../store/index.js';
import type { ExecuteRequest, ExecuteResponse } from '../orchestrator/orchestrator.js';
import { CronSpec } from './cron.js';

/**
 * Fires schedules (docs/triggers.md). Every `intervalMs` each server replica reads the enabled
 * schedules that are due and starts their playbooks through the orchestrator. Exactly once per
 * tick: each fire's execution carries the idempotency key `schedule:<id>:<fire time>`, and the
 * orchestrator checks and records that key under a lock in the transaction that records the
 * execution, so replicas racing for a tick, or a replica retrying after a crash between starting
 * an execution and moving the schedule on, start one execution. The schedule row is then moved
 * past the tick (never backwards).
 */

/** What the scheduler needs of the orchestrator. */
export interface ScheduleRunner {
  execute(req: ExecuteRequest): Promise<ExecuteResponse>;
  cancel(executionId: string, reason: string, cascade: boolean): Promise<unknown>;
}

export interface SchedulerOptions {
  readonly store: Store;
  readonly runner: ScheduleRunner;
  readonly clock: Clock;
  readonly logger: Logger;
  /** How often due schedules are read; default 250 ms (a tick starts within about that). */
  readonly intervalMs?: number;
  /** With `catchup: skip`, a tick later than this is skipped rather than fired; default 2 s (eight polls). */
  readonly skipGraceMs?: number;
}

/** How long an execution's idempotency key dedups a schedule's tick. */
const FIRE_DEDUP_WINDOW_MS = 30 * 24 * 3600 * 1000;
const DUE_BATCH = 100;
const TERMINAL = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);

export function fireKey(scheduleId: string, fireTime: string): string {
  return `schedule:${scheduleId}:${fireTime}`;
}

/** The fire times a due schedule starts now, by its missed-fire policy (oldest first). */
export function firesDue(
  schedule: Pick<ScheduleRecord, 'catchup' | 'catchupLimit' | 'nextRunAt'>,
  spec: CronSpec,
  now: number,
  skipGraceMs: number,
): { fire: number[]; missed: number } {
  if (schedule.nextRunAt === null) return { fire: [], missed: 0 };
  const from = Date.parse(schedule.nextRunAt);
  const limit = schedule.catchup === 'all' ? schedule.catchupLimit : 1;
  const latest = spec.latestBetween(from - 1, now, limit);
  if (latest.length === 0) return { fire: [], missed: 0 };
  const newest = latest[latest.length - 1]!;
  switch (schedule.catchup) {
    case 'all':
      return { fire: latest, missed: 0 };
    case 'one':
      return { fire: [newest], missed: 0 };
    case 'skip':
      return now - newest <= skipGraceMs ? { fire: [newest], missed: 0 } : { fire: [], missed: 1 };
  }
}

export class Scheduler {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;
  private readonly intervalMs: number;
  private readonly skipGraceMs: number;

  constructor(private readonly options: SchedulerOptions) {
    this.intervalMs = options.intervalMs ?? 250;
    this.skipGraceMs = options.skipGraceMs ?? 2_000;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.arm(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private arm(delay: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.tick()
        .then(() => undefined)
        .catch((err: unknown) => {
          this.options.logger.warn({ err: errorMessage(err) }, 'schedule tick failed');
        })
        .finally(() => {
          this.running = undefined;
          this.arm(this.intervalMs);
        });
    }, delay);
    this.timer.unref();
  }

  /** Fires every due schedule once; returns the executions started. */
  async tick(): Promise<number> {
    const now = this.options.clock.now();
    const due = await this.options.store.schedules.due(isoTime(now), DUE_BATCH);
    let started = 0;
    for (const schedule of due) {
      started += await this.fireSchedule(schedule, now);
    }
    return started;
  }

  private async fireSchedule(schedule: ScheduleRecord, now: number): Promise<number> {
    const { store, logger } = this.options;
    const log = logger.child({ scheduleId: schedule.scheduleId, path: schedule.path });
    let spec: CronSpec;
    try {
      spec = new CronSpec(schedule.cron, schedule.timezone);
    } catch (err) {
      // Stored before validation tightened, or edited by hand: stop it rather than retry forever.
      await store.schedules.advance({
        scheduleId: schedule.scheduleId,
        cron: schedule.cron,
        lastRunAt: isoTime(now),
        nextRunAt: null,
        lastStatus: `invalid: ${errorMessage(err)}`,
      });
      log.warn({ err: errorMessage(err) }, 'schedule has an invalid cron; it will not fire');
      return 0;
    }
    const { fire, missed } = firesDue(schedule, spec, now, this.skipGraceMs);
    if (missed > 0) log.info({ nextRunAt: schedule.nextRunAt }, 'missed fire skipped (catchup: skip)');
    let started = 0;
    let status = fire.length === 0 ? 'skipped' : 'started';
    for (const t of fire) {
      const outcome = await this.fireOnce(schedule, isoTime(t), log);
      if (outcome === 'started') started++;
      status = outcome;
    }
    const next = spec.next(Math.max(now, fire.at(-1) ?? now));
    await store.schedules.advance({
      scheduleId: schedule.scheduleId,
      cron: schedule.cron,
      lastRunAt: isoTime(fire.at(-1) ?? now),
      nextRunAt: next === undefined ? null : isoTime(next),
      lastStatus: status,
    });
    return started;
  }

  /** Starts one tick's execution, honouring the overlap policy. */
  private async fireOnce(
    schedule: ScheduleRecord,
    fireTime: string,
    log: Logger,
  ): Promise<'started' | 'duplicate' | 'skipped' | 'failed'> {
    const { store, runner } = this.options;
    try {
      if (schedule.overlap !== 'allow') {
        const previous = await this.runningPrevious(schedule.scheduleId, fireTime);
        if (previous !== undefined && schedule.overlap === 'skip') {
          await store.schedules.recordFire({
            scheduleId: schedule.scheduleId,
            fireTime,
            outcome: 'skipped',
            error: `execution ${previous} of an earlier fire is still running (overlap: skip)`,
          });
          log.info({ fireTime, previous }, 'fire skipped: the previous execution is still running');
          return 'skipped';
        }
        if (previous !== undefined) {
          await runner.cancel(
            previous,
            `cancelled by schedule ${schedule.scheduleId}: a newer fire started`,
            true,
          );
        }
      }
      const response = await runner.execute({
        path: schedule.path,
        ...(schedule.version !== null ? { version: schedule.version } : {}),
        payload: schedule.workload,
        dedupKey: fireKey(schedule.scheduleId, fireTime),
        dedupWindowMs: FIRE_DEDUP_WINDOW_MS,
      });
      // A duplicate is this tick's execution started by another replica (or by this one before a
      // crash): the fire row records it as started either way, whoever writes the row first.
      await store.schedules.recordFire({
        scheduleId: schedule.scheduleId,
        fireTime,
        executionId: response.execution_id,
        outcome: 'started',
      });
      if (response.status === 'duplicate') return 'duplicate';
      log.info({ fireTime, executionId: response.execution_id }, 'schedule fired');
      return 'started';
    } catch (err) {
      const message = errorMessage(err);
      await store.schedules
        .recordFire({ scheduleId: schedule.scheduleId, fireTime, outcome: 'failed', error: message })
        .catch(() => undefined);
      log.warn({ fireTime, err: message }, 'schedule fire failed');
      return 'failed';
    }
  }

  /** The execution of an earlier fire that has not ended yet, if any. */
  private async runningPrevious(scheduleId: string, before: string): Promise<string | undefined> {
    const { store } = this.options;
    const fires = await store.schedules.fires(scheduleId, 20);
    const last = fires.find((f) => f.fireTime < before && f.outcome === 'started' && f.executionId !== null);
    if (!last?.executionId) return undefined;
    const execution = await store.executions.overview(last.executionId);
    return execution && !TERMINAL.has(execution.status) ? last.executionId : undefined;
  }
}

/** The next fire after `now` of a schedule being created or edited, or undefined when disabled. */
export function nextRunOf(
  input: Pick<ScheduleInput, 'cron' | 'timezone' | 'enabled'>,
  now: number,
): string | undefined {
  if (!input.enabled) return undefined;
  const next = new CronSpec(input.cron, input.timezone).next(now);
  if (next === undefined) throw new NoetlError('BAD_REQUEST', `cron '${input.cron}' never fires after now`);
  return isoTime(next);
}
