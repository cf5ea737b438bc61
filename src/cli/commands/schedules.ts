import type { Command } from 'commander';
import type { ScheduleCreateOptions } from '../api/schedule-actions.js';
import type { CliContext } from '../main.js';
import { collect, globalFlags, JSON_HELP, withServerOptions } from './common.js';
import { API_ENV, envHelp } from './env-help.js';

const ENV = envHelp(API_ENV);

/** `noetl schedule create|list|get|pause|resume|delete|trigger` (docs/triggers.md). */
export function registerScheduleCommands(program: Command, ctx: CliContext): void {
  const schedule = program
    .command('schedule')
    .description('cron schedules that start playbooks on the server')
    .addHelpText(
      'after',
      `
A schedule starts a registered playbook on each tick of a cron expression (five fields, or six
with seconds first) in a time zone, exactly once per tick across server replicas and restarts.
Missed ticks (server down): --catchup skip | one (default: the latest once) | all (up to
--catchup-limit). A tick while the previous run is still going: --overlap allow (default) |
skip | cancel_previous. See docs/triggers.md.

Examples:
  noetl schedule create etl/daily --cron "0 6 * * *" --timezone Europe/Berlin --set env=prod
  noetl schedule list
  noetl schedule trigger 612345678901234567`,
    );

  withServerOptions(
    schedule
      .command('create')
      .description('schedule a registered playbook')
      .argument('<path>', 'catalog path of the playbook')
      .requiredOption('--cron <expr>', 'cron expression: "m h dom mon dow", or with seconds first')
      .option('--timezone <tz>', 'IANA time zone of the expression (default UTC)')
      .option('--version <n>', 'catalog version (default: the latest at each fire)')
      .option('--set <key=value>', 'a workload value (repeatable; JSON values parsed)', collect, [])
      .option('--payload <json>', 'workload values as a JSON object')
      .option('-i, --input <file>', 'workload values from a JSON file')
      .option('--catchup <policy>', 'missed ticks: skip, one (default) or all')
      .option('--catchup-limit <n>', 'with --catchup all: at most this many missed ticks (default 10)')
      .option('--overlap <policy>', 'previous run still going: allow (default), skip, cancel_previous')
      .option('--description <text>', 'what it is for')
      .option('--disabled', 'create it paused')
      .option('-j, --json', JSON_HELP),
  )
    .addHelpText('after', `\nExit: 0 created, 2 bad cron or flags, 4 no such playbook.\n${ENV}`)
    .action(async (path: string, opts: ScheduleCreateOptions, cmd: Command) => {
      const { scheduleCreate } = await import('../api/schedule-actions.js');
      ctx.exitCode = await scheduleCreate(ctx, globalFlags(cmd), path, opts);
    });

  withServerOptions(
    schedule
      .command('list')
      .description('every schedule with its next fire')
      .option('--path <path>', 'only schedules of this playbook')
      .option('-j, --json', JSON_HELP),
  )
    .addHelpText('after', `\n${ENV}`)
    .action(async (opts: { path?: string; json?: boolean }, cmd: Command) => {
      const { scheduleList } = await import('../api/schedule-actions.js');
      ctx.exitCode = await scheduleList(ctx, globalFlags(cmd), opts);
    });

  withServerOptions(
    schedule
      .command('get')
      .description('one schedule, its next fire times and recent fires')
      .argument('<schedule_id>', 'schedule id')
      .option('-j, --json', JSON_HELP),
  )
    .addHelpText('after', `\nExit: 0 found, 4 unknown schedule.\n${ENV}`)
    .action(async (id: string, opts: { json?: boolean }, cmd: Command) => {
      const { scheduleGet } = await import('../api/schedule-actions.js');
      ctx.exitCode = await scheduleGet(ctx, globalFlags(cmd), id, opts);
    });

  const actions = [
    ['pause', 'stop firing (missed ticks are not made up on resume)'],
    ['resume', 'fire again from the next tick'],
    ['delete', 'delete the schedule (its executions stay)'],
    ['trigger', 'start the playbook now, outside the cron'],
  ] as const;
  for (const [action, description] of actions) {
    withServerOptions(
      schedule
        .command(action)
        .description(description)
        .argument('<schedule_id>', 'schedule id')
        .option('-j, --json', JSON_HELP),
    )
      .addHelpText('after', `\nExit: 0 done, 4 unknown schedule.\n${ENV}`)
      .action(async (id: string, opts: { json?: boolean }, cmd: Command) => {
        const { scheduleAction } = await import('../api/schedule-actions.js');
        ctx.exitCode = await scheduleAction(ctx, globalFlags(cmd), action, id, opts);
      });
  }
}
