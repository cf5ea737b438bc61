import type { Command } from 'commander';
import type { SourceOptions } from '../api/catalog-actions.js';
import type { CliContext } from '../main.js';
import { globalFlags, JSON_HELP, withServerOptions } from './common.js';
import { API_ENV, envHelp } from './env-help.js';

const ENV = envHelp(API_ENV);

/** `register`, `catalog`, `get credential`: playbooks and credentials on the server. */
export function registerResourceCommands(program: Command, ctx: CliContext): void {
  const register = program.command('register').description('register playbooks or credentials');

  withServerOptions(
    register
      .command('playbook')
      .description('register playbooks in the catalog (each registration is a new version)')
      .option('-f, --file <file>', 'one playbook file')
      .option('-d, --dir <dir>', 'every playbook under DIR (YAML with apiVersion: and kind: Playbook)')
      .option('--strict', 'refuse a playbook with warnings too (env NOETL_STRICT=1)')
      .option('-j, --json', JSON_HELP),
  )
    .addHelpText(
      'after',
      `
A playbook with an error is refused: its diagnostics are printed as file:line:col, and nothing is
stored. The same content as the latest version is not stored again ("unchanged").
Exit: 0 ok, 1 some files failed (the others are registered), 2 no file, bad YAML or an invalid
playbook, 3 server unavailable.
${ENV}

Examples:
  noetl register playbook -f playbooks/hello.yaml
  noetl register playbook -d playbooks/`,
    )
    .action(async (opts: SourceOptions, cmd: Command) => {
      const { registerPlaybook } = await import('../api/catalog-actions.js');
      ctx.exitCode = await registerPlaybook(ctx, globalFlags(cmd), opts);
    });

  withServerOptions(
    register
      .command('credential')
      .description('store credentials on the server (data encrypted at rest)')
      .option('-f, --file <file>', 'a JSON or YAML file: {name, type, data} or a list of them')
      .option('-d, --dir <dir>', 'every such JSON/YAML file under DIR')
      .option('-j, --json', JSON_HELP),
  )
    .addHelpText(
      'after',
      `
A file holds {"name": "pg_local", "type": "postgres", "data": {...}} (or a list); a name that
exists is replaced. Data is never printed.
Exit: 0 ok, 1 some files failed, 2 no file or not a credential, 3 server unavailable.
${ENV}

Example:
  noetl register credential -f credentials/pg_local.json`,
    )
    .action(async (opts: SourceOptions, cmd: Command) => {
      const { registerCredential } = await import('../api/catalog-actions.js');
      ctx.exitCode = await registerCredential(ctx, globalFlags(cmd), opts);
    });

  const catalog = program.command('catalog').description('register, get, list catalog entries');

  withServerOptions(
    catalog
      .command('register')
      .description('register a file: a playbook, or a credential when it says kind: Credential')
      .argument('<file>', 'YAML or JSON file')
      .option('--strict', 'refuse a playbook with warnings too (env NOETL_STRICT=1)')
      .option('-j, --json', JSON_HELP),
  )
    .addHelpText('after', ENV)
    .action(async (file: string, opts: { json?: boolean; strict?: boolean }, cmd: Command) => {
      const { catalogRegister } = await import('../api/catalog-actions.js');
      ctx.exitCode = await catalogRegister(ctx, globalFlags(cmd), file, opts);
    });

  withServerOptions(
    catalog
      .command('get')
      .description("print a registered playbook's content (YAML)")
      .argument('<path>', 'catalog path, e.g. examples/hello')
      .option('--version <n>', 'version (default: latest)')
      .option('-j, --json', 'print the whole catalog entry as JSON'),
  )
    .addHelpText(
      'after',
      `\nExit: 0 ok, 4 no such path or version.
${ENV}`,
    )
    .action(async (path: string, opts: { version?: string; json?: boolean }, cmd: Command) => {
      const { catalogGet } = await import('../api/catalog-actions.js');
      ctx.exitCode = await catalogGet(ctx, globalFlags(cmd), path, opts);
    });

  withServerOptions(
    catalog
      .command('list')
      .description('list catalog entries, newest first')
      .argument('[type]', 'resource type, e.g. Playbook (case-insensitive)')
      .option('-j, --json', JSON_HELP),
  )
    .addHelpText('after', ENV)
    .action(async (type: string | undefined, opts: { json?: boolean }, cmd: Command) => {
      const { catalogList } = await import('../api/catalog-actions.js');
      ctx.exitCode = await catalogList(ctx, globalFlags(cmd), type, opts);
    });

  const get = program.command('get').description('show a credential');
  withServerOptions(
    get
      .command('credential')
      .description('show a credential (its data only with --include-data)')
      .argument('<name>', 'credential name or id')
      .option('--include-data', 'also print the decrypted data')
      .option('-j, --json', JSON_HELP),
  )
    .addHelpText(
      'after',
      `\nExit: 0 ok, 4 no such credential.
${ENV}`,
    )
    .action(async (name: string, opts: { includeData?: boolean; json?: boolean }, cmd: Command) => {
      const { getCredential } = await import('../api/catalog-actions.js');
      ctx.exitCode = await getCredential(ctx, globalFlags(cmd), name, opts);
    });
}
