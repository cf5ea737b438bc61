import { Option, type Command } from 'commander';
import type { CliContext } from '../main.js';

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** `run`, `validate`, `schema`: commands that need no server. */
export function registerLocalCommands(program: Command, ctx: CliContext): void {
  program
    .command('run')
    .description('run a playbook in this process (no server, database or bus needed)')
    .argument('[file]', 'playbook file (default ./noetl.yaml, then ./main.yaml)')
    .argument('[target]', 'step to start at (default: start)')
    .option(
      '--set <key=value>',
      'set a workload value (repeatable; JSON values parsed; dotted keys nest)',
      collect,
      [],
    )
    .option('--payload <json>', 'workload values as a JSON object (alias --workload)')
    .addOption(new Option('--workload <json>').hideHelp())
    .option('-i, --input <file>', 'workload values from a JSON file')
    .option('-t, --target <step>', 'step to start at (same as the TARGET argument)')
    .option(
      '--credentials <file>',
      'credentials for auth aliases: YAML or JSON list of {name, type, data} (then $NOETL_HOME/credentials.yaml, then env NOETL_CREDENTIAL_<ALIAS>)',
    )
    .option('-j, --json', 'print one JSON object with the outcome on stdout')
    .option('-v, --verbose', "print every event and each step's output (prefixed [step]) on stderr")
    .option(
      '--strict',
      'a playbook warning (e.g. an unknown key) is an error: nothing runs (env NOETL_STRICT=1)',
    )
    .addHelpText(
      'after',
      `
Workload precedence: --input file, then --payload, then --set (later wins).
Each run writes its event log to .noetl/runs/<execution_id>.jsonl.
Playbook warnings (an unknown key, an unreachable step...) are printed on stderr before the run.
Exit: 0 COMPLETED, 1 FAILED, 2 invalid playbook or usage.
Credentials: an auth alias is looked up in --credentials FILE, then $NOETL_HOME/credentials.yaml,
then env NOETL_CREDENTIAL_<ALIAS> (JSON {"type": ..., "data": {...}}). Secrets are scrubbed from
the event log and from printed results.
Env: PYTHON_PATH (python interpreter for python steps), NOETL_HOME (default ~/.noetl),
NOETL_CREDENTIAL_<ALIAS>, NOETL_STRICT (1: same as --strict).

Examples:
  noetl run examples/hello.yaml
  noetl run pipeline.yaml --set env=prod --set limits.max=5 --json`,
    )
    .action(async (file: string | undefined, target: string | undefined, opts: Record<string, unknown>) => {
      const { runAction } = await import('./run-action.js');
      ctx.exitCode = await runAction(file, target, opts, ctx);
    });

  program
    .command('validate')
    .description('check a playbook and report every problem with its code and line:col')
    .argument('<file>', 'playbook file')
    .option('-j, --json', 'print {valid, diagnostics} as JSON')
    .option('--server', 'apply the server rules (every step needs a tool; no legacy case:)')
    .option('--strict', 'every warning (e.g. an unknown key) is an error (env NOETL_STRICT=1)')
    .addHelpText('after', '\nExit: 0 valid (warnings allowed unless --strict), 1 invalid, 2 unreadable file.')
    .action(async (file: string, opts: { json?: boolean; server?: boolean; strict?: boolean }) => {
      const { validateAction } = await import('./validate-action.js');
      ctx.exitCode = await validateAction(file, opts, ctx.env);
    });

  program
    .command('schema')
    .description('print the JSON Schema of the playbook format (for editors, e.g. yaml-language-server)')
    .action(async () => {
      const { playbookJsonSchema } = await import('../../dsl/index.js');
      process.stdout.write(`${JSON.stringify(playbookJsonSchema(), null, 2)}\n`);
    });
}
