import { describe, expect, it } from 'vitest';
import { CronSpec } from './cron.js';
import { firesDue } from './scheduler.js';

const at = (iso: string): number => Date.parse(iso);

describe('CronSpec', () => {
  it('takes five fields, or six with seconds, in a time zone', () => {
    expect(new CronSpec('0 9 * * *', 'America/New_York').next(at('2026-01-01T00:00:00Z'))).toBe(
      at('2026-01-01T14:00:00Z'),
    );
    expect(new CronSpec('*/10 * * * * *', 'UTC').nextN(at('2026-01-01T00:00:00Z'), 3)).toEqual([
      at('2026-01-01T00:00:10Z'),
      at('2026-01-01T00:00:20Z'),
      at('2026-01-01T00:00:30Z'),
    ]);
  });

  it('refuses a bad expression or time zone with BAD_REQUEST', () => {
    expect(() => new CronSpec('every day', 'UTC')).toThrow(expect.objectContaining({ code: 'BAD_REQUEST' }));
    expect(() => new CronSpec('* * * * *', 'Mars/Base')).toThrow(
      expect.objectContaining({ code: 'BAD_REQUEST' }),
    );
  });

  it('lists the latest fires in (after, until], oldest first', () => {
    const spec = new CronSpec('0 * * * *', 'UTC');
    expect(spec.latestBetween(at('2026-01-01T00:00:00Z'), at('2026-01-01T05:00:00Z'), 3)).toEqual([
      at('2026-01-01T03:00:00Z'),
      at('2026-01-01T04:00:00Z'),
      at('2026-01-01T05:00:00Z'),
    ]);
  });
});

describe('firesDue: the missed-fire policy', () => {
  const spec = new CronSpec('0 * * * *', 'UTC'); // hourly
  const now = at('2026-01-01T10:00:30Z');
  const downSince = { nextRunAt: '2026-01-01T06:00:00.000Z', catchupLimit: 3 };

  it('all: every missed tick up to catchup_limit, most recent first kept', () => {
    expect(firesDue({ ...downSince, catchup: 'all' }, spec, now, 2000).fire).toEqual([
      at('2026-01-01T08:00:00Z'),
      at('2026-01-01T09:00:00Z'),
      at('2026-01-01T10:00:00Z'),
    ]);
  });

  it('one: only the most recent tick', () => {
    expect(firesDue({ ...downSince, catchup: 'one' }, spec, now, 2000).fire).toEqual([
      at('2026-01-01T10:00:00Z'),
    ]);
  });

  it('skip: a tick later than the grace is not fired; an on-time one is', () => {
    expect(firesDue({ ...downSince, catchup: 'skip' }, spec, now, 2000)).toEqual({ fire: [], missed: 1 });
    expect(firesDue({ ...downSince, catchup: 'skip' }, spec, at('2026-01-01T10:00:01Z'), 2000).fire).toEqual([
      at('2026-01-01T10:00:00Z'),
    ]);
  });

  it('nothing is due before next_run_at', () => {
    expect(
      firesDue({ nextRunAt: '2026-01-01T11:00:00.000Z', catchupLimit: 3, catchup: 'all' }, spec, now, 2000)
        .fire,
    ).toEqual([]);
  });
});
