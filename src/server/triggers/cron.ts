import { Cron } from 'croner';
import { NoetlError } from '../../shared/index.js';

/**
 * Cron expressions of schedules (docs/triggers.md), parsed by croner: five fields, or six with
 * seconds first; an IANA time zone. Never a hand-written parser.
 */
export class CronSpec {
  private readonly cron: Cron;

  constructor(
    readonly expression: string,
    readonly timezone: string,
  ) {
    try {
      this.cron = new Cron(expression, { timezone, paused: true, mode: '5-or-6-parts' });
      this.cron.nextRun(new Date(0)); // a bad time zone throws only when a date is computed
    } catch (cause) {
      const message = cause instanceof Error ? cause.message.split('. Original error')[0] : String(cause);
      throw new NoetlError('BAD_REQUEST', `invalid schedule: ${message ?? 'unreadable cron'}`, {
        details: { cron: expression, timezone },
      });
    }
  }

  /** The first fire strictly after `after` (ms), or undefined when the expression never fires again. */
  next(after: number): number | undefined {
    return this.cron.nextRun(new Date(after))?.getTime();
  }

  /** Up to `n` fires strictly after `after`. */
  nextN(after: number, n: number): number[] {
    return this.cron.nextRuns(n, new Date(after)).map((d) => d.getTime());
  }

  /** The most recent fires in (`after`, `until`], at most `limit`, oldest first. */
  latestBetween(after: number, until: number, limit: number): number[] {
    return this.cron
      .previousRuns(limit, new Date(until + 1))
      .map((d) => d.getTime())
      .filter((t) => t > after)
      .reverse();
  }
}
