import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { registerAdminCommands } from './commands/admin.js';
import { registerDeployCommands } from './commands/deploy.js';
import { addCommonOptions } from './commands/common.js';
import { registerExecutionCommands } from './commands/executions.js';
import { registerLocalCommands } from './commands/local.js';
import { registerProcessCommands } from './commands/processes.js';
import { registerResourceCommands } from './commands/resources.js';
import { registerScheduleCommands } from './commands/schedules.js';
import { registerTuiCommand } from './commands/tui.js';
import { EXIT } from './exit.js';
import { reportError } from './report.js';

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

export interface CliContext {
  /** Set by a command's action: the process exit code. */
  exitCode: number;
  readonly debug: () => boolean;
  /**
   * The process environment: main() reads `process.env` here, once; commands read settings
   * from it through cli-config.ts and pass it on to the processes they start.
   */
  readonly env: Readonly<Record<string, string | undefined>>;
}

/**
 * Builds the command tree. Command modules only declare options; each action imports the code
 * it needs when it runs (STYLE.md 5), so `noetl --help` and `--version` stay fast.
 */
export function buildProgram(ctx: CliContext): Command {
  const program = new Command('noetl');
  program
    .description('NoETL workflow orchestrator: run YAML playbooks locally, on a server, or distributed')
    .version(packageVersion(), '-V, --version', 'print the version')
    .option('--debug', 'print stack traces on errors')
    .option('--server-url <url>', 'server of the API commands (env NOETL_SERVER_URL)')
    .option('--host <host>', 'server host (env NOETL_HOST)')
    .option('-p, --port <port>', 'server port (env NOETL_PORT)')
    .option('--context <name>', 'named context to use (see `noetl context`)')
    // A command's options follow its name (`catalog get --version 2` is not `noetl --version`);
    // the options above may be given before the command or after it (commands/common.ts).
    .enablePositionalOptions()
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeErr: (s) => process.stderr.write(s),
      outputError: (s, write) => write(s.startsWith('error:') ? `error[USAGE]:${s.slice(6)}` : s),
    })
    .configureHelp({ sortSubcommands: false })
    .addHelpText(
      'after',
      `
Server address of the API commands: --server-url, --host/--port, --context, then
NOETL_SERVER_URL, NOETL_HOST/NOETL_PORT, the current context, else http://localhost:8082.
Exit codes: 0 ok, 1 failed, 2 usage or invalid input, 3 server unavailable, 4 not found,
5 conflict (already running, port taken), 130 interrupted.
Docs: docs/cli.md, docs/dsl.md, docs/errors.md`,
    );
  program.commandsGroup('Local runs (no server):');
  registerLocalCommands(program, ctx);
  program.commandsGroup('Processes:');
  registerProcessCommands(program, ctx);
  program.commandsGroup('Server API:');
  registerResourceCommands(program, ctx);
  registerExecutionCommands(program, ctx);
  registerScheduleCommands(program, ctx);
  registerDeployCommands(program, ctx);
  registerTuiCommand(program, ctx);
  program.commandsGroup('Setup:');
  registerAdminCommands(program, ctx);
  program.helpCommand(true);
  addCommonOptions(program);
  return program;
}

export async function main(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<number> {
  const ctx: CliContext = {
    exitCode: EXIT.ok,
    debug: () => argv.includes('--debug'),
    env,
  };
  const program = buildProgram(ctx);
  try {
    await program.parseAsync([...argv]);
    return ctx.exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0) {
        return EXIT.ok;
      }
      if (err.code === 'commander.help') return EXIT.ok;
      return EXIT.usage;
    }
    return reportError(err, ctx.debug());
  }
}
