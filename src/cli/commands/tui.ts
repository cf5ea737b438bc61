import type { Command } from 'commander';
import type { CliContext } from '../main.js';
import { globalFlags, withServerOptions } from './common.js';
import { API_ENV, envHelp } from './env-help.js';

/** `noetl tui`: the terminal UI (ink is loaded only when it runs). */
export function registerTuiCommand(program: Command, ctx: CliContext): void {
  withServerOptions(
    program.command('tui').description('terminal UI: executions, step output, catalog, worker pools'),
  )
    .addHelpText(
      'after',
      `
Keys: 1 executions, 2 catalog, 3 worker pools; arrows (or j/k) move, enter opens (or runs
a playbook), esc goes back, c cancels, r reruns, s cycles the status filter, / filters by
path, ? lists the keys, q quits. Needs a terminal (80x24 is enough); no colour when NO_COLOR
is set or stdout is not a terminal.
Exit: 0 quit, 2 not a terminal, 3 server unavailable.
${envHelp(API_ENV)}`,
    )
    .action(async (_opts: unknown, cmd: Command) => {
      const { tuiAction } = await import('../tui/action.js');
      ctx.exitCode = await tuiAction(ctx, globalFlags(cmd));
    });
}
