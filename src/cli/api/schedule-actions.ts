import { NoetlError } from '../../shared/index.js';
import type { GlobalFlags } from '../cli-config.js';
import { EXIT } from '../exit.js';
import type { CliContext } from '../main.js';
import { print, printJson, table } from '../output.js';
import { workloadFromFlags } from '../workload.js';
import { connectApi } from './connect.js';

/** `noetl schedule ...`: the schedules of the server (docs/triggers.md). */

interface ScheduleView {
  readonly schedule_id: string;
  readonly path: string;
  readonly version: number | null;
  readonly cron: string;
  readonly timezone: string;
  readonly enabled: boolean;
  readonly catchup: string;
  readonly overlap: string;
  readonly next_run_at: string | null;
  readonly last_run_at: string | null;
  readonly last_status: string | null;
  readonly next_fire_times: readonly string[];
  readonly workload: unknown;
}

export interface ScheduleCreateOptions {
  readonly cron: string;
  readonly timezone?: string;
  readonly version?: string;
  readonly set?: readonly string[];
  readonly payload?: string;
  readonly input?: string;
  readonly catchup?: string;
  readonly catchupLimit?: string;
  readonly overlap?: string;
  readonly description?: string;
  readonly disabled?: boolean;
  readonly json?: boolean;
}

function scheduleId(raw: string): string {
  const id = raw.trim();
  if (!/^\d{1,20}$/.test(id))
    throw new NoetlError('USAGE', `schedule id must be a decimal number, got '${raw}'`);
  return id;
}

function positive(flag: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) < 1)
    throw new NoetlError('USAGE', `${flag} must be a number >= 1, got '${raw}'`);
  return Number(raw);
}

function oneOf(flag: string, raw: string | undefined, allowed: readonly string[]): string | undefined {
  if (raw === undefined || allowed.includes(raw)) return raw;
  throw new NoetlError('USAGE', `${flag} must be one of ${allowed.join(', ')}, got '${raw}'`);
}

function describe(s: ScheduleView): string {
  const lines = [`schedule ${s.schedule_id}  ${s.enabled ? 'enabled' : 'paused'}`];
  lines.push(`  playbook  ${s.path}${s.version !== null ? ` (version ${s.version})` : ''}`);
  lines.push(`  cron      ${s.cron}  (${s.timezone})`);
  lines.push(`  policy    catchup ${s.catchup}, overlap ${s.overlap}`);
  if (s.last_run_at) lines.push(`  last fire ${s.last_run_at}${s.last_status ? `  ${s.last_status}` : ''}`);
  if (s.next_fire_times.length > 0) lines.push(`  next      ${s.next_fire_times.slice(0, 3).join(', ')}`);
  return lines.join('\n');
}

export async function scheduleCreate(
  ctx: CliContext,
  flags: GlobalFlags,
  path: string,
  opts: ScheduleCreateOptions,
): Promise<number> {
  const workload = await workloadFromFlags({
    set: opts.set ?? [],
    ...(opts.payload !== undefined ? { payload: opts.payload } : {}),
    ...(opts.input !== undefined ? { input: opts.input } : {}),
  });
  const body = {
    path,
    cron: opts.cron,
    workload,
    enabled: opts.disabled !== true,
    ...(opts.timezone !== undefined ? { timezone: opts.timezone } : {}),
    ...(opts.version !== undefined ? { version: positive('--version', opts.version) } : {}),
    ...(opts.catchup !== undefined
      ? { catchup: oneOf('--catchup', opts.catchup, ['skip', 'one', 'all']) }
      : {}),
    ...(opts.catchupLimit !== undefined
      ? { catchup_limit: positive('--catchup-limit', opts.catchupLimit) }
      : {}),
    ...(opts.overlap !== undefined
      ? { overlap: oneOf('--overlap', opts.overlap, ['allow', 'skip', 'cancel_previous']) }
      : {}),
    ...(opts.description !== undefined ? { description: opts.description } : {}),
  };
  const { client } = await connectApi(ctx, flags);
  const s = await client.request<ScheduleView>('POST', '/api/schedules', body);
  if (opts.json) printJson(s);
  else print(describe(s));
  return EXIT.ok;
}

export async function scheduleList(
  ctx: CliContext,
  flags: GlobalFlags,
  opts: { path?: string; json?: boolean },
): Promise<number> {
  const { client } = await connectApi(ctx, flags);
  const query = opts.path !== undefined ? `?path=${encodeURIComponent(opts.path)}` : '';
  const r = await client.request<{ items: ScheduleView[] }>('GET', `/api/schedules${query}`);
  if (opts.json) {
    printJson(r.items);
    return EXIT.ok;
  }
  if (r.items.length === 0) {
    print('no schedules (create one: noetl schedule create PATH --cron "0 * * * *")');
    return EXIT.ok;
  }
  print(
    table(
      ['id', 'path', 'cron', 'tz', 'state', 'next fire', 'last'],
      r.items.map((s) => [
        s.schedule_id,
        s.path,
        s.cron,
        s.timezone,
        s.enabled ? 'enabled' : 'paused',
        s.next_run_at ?? '-',
        s.last_status ?? '-',
      ]),
    ),
  );
  return EXIT.ok;
}

export async function scheduleGet(
  ctx: CliContext,
  flags: GlobalFlags,
  rawId: string,
  opts: { json?: boolean },
): Promise<number> {
  const id = scheduleId(rawId);
  const { client } = await connectApi(ctx, flags);
  const s = await client.request<ScheduleView>('GET', `/api/schedules/${id}`);
  const fires = await client.request<{
    items: { fire_time: string; execution_id: string | null; outcome: string }[];
  }>('GET', `/api/schedules/${id}/fires?limit=10`);
  if (opts.json) {
    printJson({ ...s, recent_fires: fires.items });
    return EXIT.ok;
  }
  print(describe(s));
  if (fires.items.length > 0) {
    print('\nrecent fires');
    print(
      table(
        ['fire time', 'outcome', 'execution'],
        fires.items.map((f) => [f.fire_time, f.outcome, f.execution_id ?? '-']),
      ),
    );
  }
  return EXIT.ok;
}

/** `pause`, `resume`, `delete`, `trigger`. */
export async function scheduleAction(
  ctx: CliContext,
  flags: GlobalFlags,
  action: 'pause' | 'resume' | 'delete' | 'trigger',
  rawId: string,
  opts: { json?: boolean },
): Promise<number> {
  const id = scheduleId(rawId);
  const { client } = await connectApi(ctx, flags);
  if (action === 'delete') {
    const r = await client.request('DELETE', `/api/schedules/${id}`);
    if (opts.json) printJson(r);
    else print(`schedule ${id} deleted`);
    return EXIT.ok;
  }
  if (action === 'trigger') {
    const r = await client.request<{ execution_id: string; fire_time: string }>(
      'POST',
      `/api/schedules/${id}/trigger`,
      {},
    );
    if (opts.json) printJson(r);
    else
      print(
        `execution ${r.execution_id} started by schedule ${id}\n  watch it: noetl status ${r.execution_id}`,
      );
    return EXIT.ok;
  }
  const s = await client.request<ScheduleView>('POST', `/api/schedules/${id}/${action}`, {});
  if (opts.json) printJson(s);
  else print(describe(s));
  return EXIT.ok;
}
