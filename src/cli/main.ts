import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { registerLocalCommands } from './commands/local.js';
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
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeErr: (s) => process.stderr.write(s),
      outputError: (s, write) => write(s.startsWith('error:') ? `error[USAGE]:${s.slice(6)}` : s),
    })
    .configureHelp({ sortSubcommands: false, showGlobalOptions: true })
    .addHelpText(
      'after',
      `
Exit codes: 0 ok, 1 execution failed, 2 usage or invalid playbook, 3 server unavailable,
4 not found, 5 conflict, 130 interrupted.
Docs: docs/cli.md, docs/dsl.md, docs/errors.md`,
    );
  registerLocalCommands(program, ctx);
  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  const ctx: CliContext = {
    exitCode: EXIT.ok,
    debug: () => argv.includes('--debug'),
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
