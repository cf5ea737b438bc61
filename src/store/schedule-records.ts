import type { JsonObject } from '../shared/index.js';

/** Schedules (docs/triggers.md): a playbook started by a cron expression. */

export const SCHEDULE_CATCHUP = ['skip', 'one', 'all'] as const;
export type ScheduleCatchup = (typeof SCHEDULE_CATCHUP)[number];
export const SCHEDULE_OVERLAP = ['allow', 'skip', 'cancel_previous'] as const;
export type ScheduleOverlap = (typeof SCHEDULE_OVERLAP)[number];
export type ScheduleFireOutcome = 'started' | 'duplicate' | 'skipped' | 'failed';

export interface ScheduleInput {
  readonly path: string;
  /** A catalog version; undefined runs the latest. */
  readonly version?: number;
  readonly cron: string;
  readonly timezone: string;
  readonly workload: JsonObject;
  readonly enabled: boolean;
  readonly catchup: ScheduleCatchup;
  readonly catchupLimit: number;
  readonly overlap: ScheduleOverlap;
  readonly description?: string;
  /** ISO time of the next fire; undefined while disabled. */
  readonly nextRunAt?: string;
}

export interface ScheduleRecord extends Omit<ScheduleInput, 'version' | 'description' | 'nextRunAt'> {
  readonly scheduleId: string;
  readonly version: number | null;
  readonly description: string | null;
  readonly nextRunAt: string | null;
  readonly lastRunAt: string | null;
  readonly lastStatus: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface ScheduleFireRecord {
  readonly scheduleId: string;
  readonly fireTime: string;
  readonly executionId: string | null;
  readonly outcome: ScheduleFireOutcome;
  readonly error: string | null;
  readonly createdAt: string;
}

export interface ScheduleFireInput {
  readonly scheduleId: string;
  readonly fireTime: string;
  readonly executionId?: string;
  readonly outcome: ScheduleFireOutcome;
  readonly error?: string;
}

export interface ScheduleAdvance {
  readonly scheduleId: string;
  /** The cron the fire was computed from: an edit made meanwhile wins. */
  readonly cron: string;
  readonly lastRunAt: string;
  readonly nextRunAt: string | null;
  readonly lastStatus: string;
}

export interface ScheduleStore {
  insert(input: ScheduleInput): Promise<ScheduleRecord>;
  /** Replaces every field; undefined when there is no such schedule. */
  update(scheduleId: string, input: ScheduleInput): Promise<ScheduleRecord | undefined>;
  get(scheduleId: string): Promise<ScheduleRecord | undefined>;
  list(options?: { readonly path?: string; readonly limit?: number }): Promise<ScheduleRecord[]>;
  delete(scheduleId: string): Promise<boolean>;
  /** Enabled schedules due at `now` (ISO), soonest first. */
  due(now: string, limit: number): Promise<ScheduleRecord[]>;
  /** False when the schedule moved on meanwhile (another replica, an edit). */
  advance(advance: ScheduleAdvance): Promise<boolean>;
  /** Idempotent on (schedule, fire time). */
  recordFire(fire: ScheduleFireInput): Promise<void>;
  fires(scheduleId: string, limit: number): Promise<ScheduleFireRecord[]>;
  fireOfExecution(executionId: string): Promise<ScheduleFireRecord | undefined>;
}
