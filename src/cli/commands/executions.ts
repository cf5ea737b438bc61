import type { Command } from 'commander';
import type { ExecuteOptions } from '../api/execution-actions.js';
import type { CliContext } from '../main.js';
import { collect, globalFlags, JSON_HELP, withServerOptions } from './common.js';
import { API_ENV, envHelp } from './env-help.js';

const ENV = envHelp(API_ENV);

/** `execute`, `executions`, `status`, `cancel`, `rerun`, `events`, `logs`, `cleanup`: executions on the server. */
export function registerExecutionCommands(program: Command, ctx: CliContext): void {
  const execute = program.command('execute').description('execute a playbook (--wait follows it)');
  withServerOptions(
    execute
      .command('playbook')
      .description('execute a registered playbook; --wait follows it to the end')
      .argument('<path>', 'catalog path, e.g. examples/hello')
      .option('-i, --input <file>', 'workload values from a JSON file')
      .option(
        '--set <key=value>',
        'a workload value (repeatable; JSON values parsed; dotted keys nest)',
        collect,
        [],
      )
      .option('--payload <json>', 'workload values as a JSON object')
      .option('--version <n>', 'catalog version (default: latest)')
      .option('--pool <pool>', 'worker pool that runs its commands')
      .option('-w, --wait', 'show step progress and wait for the outcome')
      .option('-j, --json', 'print JSON: the start answer, or with --wait the final status'),
  )
    .addHelpText(
      'after',
      `
Workload precedence: --input file, then --payload, then --set (later wins), over the
playbook's workload.
With --wait: step lines on stderr (✓ done, ✗ failed, - skipped, with durations), the outcome
on stdout; --json prints the final status ({execution_id, status, ..., final_result}).
Exit: 0 started (or COMPLETED with --wait), 1 FAILED or CANCELLED, 2 bad flags,
3 server unavailable, 4 no such playbook, 130 Ctrl-C (the execution keeps running).
${ENV}

Examples:
  noetl execute playbook examples/hello --set name=Al --wait
  noetl execute playbook etl/daily --input params.json --wait --json`,
    )
    .action(async (path: string, opts: ExecuteOptions, cmd: Command) => {
      const { executePlaybook } = await import('../api/execution-actions.js');
      ctx.exitCode = await executePlaybook(ctx, globalFlags(cmd), path, opts);
    });

  withServerOptions(
    program
      .command('executions')
      .description('list executions, newest first (--status, --path)')
      .option('-s, --status <status>', 'only RUNNING, COMPLETED, FAILED or CANCELLED ones')
      .option('--path <prefix>', 'only playbooks whose catalog path starts with this')
      .option('-n, --limit <n>', 'how many (1-500)', '20')
      .option('-j, --json', JSON_HELP),
  )
    .addHelpText(
      'after',
      `\nPrints EXECUTION_ID, STATUS, STARTED, TOOK (to now while running), PATH and ERROR; --json the
rows of GET /api/executions. Exit: 0 (also when none match), 2 bad flag, 3 server unavailable.
${ENV}`,
    )
    .action(
      async (opts: { status?: string; path?: string; limit?: string; json?: boolean }, cmd: Command) => {
        const { listExecutionsAction } = await import('../api/execution-actions.js');
        ctx.exitCode = await listExecutionsAction(ctx, globalFlags(cmd), opts);
      },
    );

  withServerOptions(
    program
      .command('status')
      .description('status, progress, error')
      .argument('<execution_id>', 'execution id')
      .option('-j, --json', JSON_HELP),
  )
    .addHelpText(
      'after',
      `\nExit: 0 found (whatever its status), 4 unknown execution.
${ENV}`,
    )
    .action(async (id: string, opts: { json?: boolean }, cmd: Command) => {
      const { statusAction } = await import('../api/execution-actions.js');
      ctx.exitCode = await statusAction(ctx, globalFlags(cmd), id, opts);
    });

  withServerOptions(
    program
      .command('cancel')
      .description('cancel a running execution')
      .argument('<execution_id>', 'execution id')
      .option('-r, --reason <text>', 'why (recorded in the event log)')
      .option('--cascade', 'also cancel its running child executions (the default)')
      .option('--no-cascade', 'cancel this execution only, not its children')
      .option('-j, --json', JSON_HELP),
  )
    .addHelpText(
      'after',
      `\nExit: 0 cancelled, 4 unknown execution, 5 already finished.
${ENV}`,
    )
    .action(
      async (id: string, opts: { reason?: string; cascade?: boolean; json?: boolean }, cmd: Command) => {
        const { cancelAction } = await import('../api/execution-actions.js');
        ctx.exitCode = await cancelAction(ctx, globalFlags(cmd), id, opts);
      },
    );

  withServerOptions(
    program
      .command('rerun')
      .description('run an execution again')
      .argument('<execution_id>', 'execution id')
      .option('-w, --wait', 'show step progress and wait for the outcome')
      .option('-j, --json', JSON_HELP),
  )
    .addHelpText(
      'after',
      `\nA FAILED or CANCELLED execution resumes: its completed steps keep their results and the
failed and unfinished ones run again. A COMPLETED one runs from the start. Either way the
new execution has the same playbook version and workload.

Exit: as \`execute playbook\`; 4 unknown execution.
${ENV}`,
    )
    .action(async (id: string, opts: { wait?: boolean; json?: boolean }, cmd: Command) => {
      const { rerunAction } = await import('../api/execution-actions.js');
      ctx.exitCode = await rerunAction(ctx, globalFlags(cmd), id, opts);
    });

  withServerOptions(
    program
      .command('events')
      .description('event log (--follow)')
      .argument('<execution_id>', 'execution id')
      .option('-f, --follow', 'keep polling for new events until the execution is finished')
      .option('-j, --json', 'one JSON event per line (NDJSON)'),
  )
    .addHelpText(
      'after',
      `\nExit: 0 ok, 4 unknown execution, 130 Ctrl-C.
${ENV}`,
    )
    .action(async (id: string, opts: { follow?: boolean; json?: boolean }, cmd: Command) => {
      const { eventsAction } = await import('../api/execution-actions.js');
      ctx.exitCode = await eventsAction(ctx, globalFlags(cmd), id, opts);
    });

  withServerOptions(
    program
      .command('logs')
      .description("what an execution's steps printed (--step, --follow)")
      .argument('<execution_id>', 'execution id (a local run: its .noetl/runs/<id>.jsonl)')
      .option('-s, --step <name>', 'only this step')
      .option('-f, --follow', 'keep reading until the execution is finished')
      .option('-j, --json', 'one JSON line per output line: {step, ts, stream, text}'),
  )
    .addHelpText(
      'after',
      `
Lines are "[step] | text" (stdout) and "[step] ! text" (stderr). A local run's log under
./.noetl/runs/ is read when it exists, else the server's events.
Exit: 0 ok, 4 unknown execution, 130 Ctrl-C.
${ENV}`,
    )
    .action(async (id: string, opts: { step?: string; follow?: boolean; json?: boolean }, cmd: Command) => {
      const { logsAction } = await import('../api/logs-action.js');
      ctx.exitCode = await logsAction(ctx, globalFlags(cmd), id, opts);
    });

  withServerOptions(
    program
      .command('cleanup')
      .description('cancel long-running executions')
      .option('--older-than-minutes <n>', 'running for more than N minutes (default 5)')
      .option('--dry-run', 'only list them')
      .option('-j, --json', JSON_HELP),
  )
    .addHelpText('after', ENV)
    .action(async (opts: { olderThanMinutes?: string; dryRun?: boolean; json?: boolean }, cmd: Command) => {
      const { cleanupAction } = await import('../api/execution-actions.js');
      ctx.exitCode = await cleanupAction(ctx, globalFlags(cmd), opts);
    });
}
