import type { Command } from 'commander';
import type { CliContext } from '../main.js';
import { globalFlags, JSON_HELP, withServerOptions } from './common.js';
import { API_ENV, envHelp } from './env-help.js';

const ENV = envHelp(API_ENV);

/** `context ...`: named servers in $NOETL_HOME/config.yaml. */
function registerContext(program: Command, ctx: CliContext): void {
  const context = program
    .command('context')
    .description('named servers to talk to')
    .addHelpText(
      'after',
      `
The current context is used by the API commands when neither --server-url, --host/--port,
NOETL_SERVER_URL nor NOETL_HOST/NOETL_PORT says where the server is.`,
    );
  context
    .command('add')
    .description('add (or update) a context')
    .argument('<name>', 'context name')
    .option('--server-url <url>', "the context's server URL (required)")
    .option('--runtime <runtime>', 'local, distributed or auto (default auto)')
    .option('--set-current', 'make it the current context (the first one added always is)')
    .addHelpText(
      'after',
      `${envHelp(['NOETL_HOME'])}\n\nExample:\n  noetl context add prod --server-url https://noetl.example.com --set-current`,
    )
    .action(async (name: string, opts: { runtime?: string; setCurrent?: boolean }, cmd: Command) => {
      const { contextAdd } = await import('../api/context-actions.js');
      ctx.exitCode = await contextAdd(ctx, globalFlags(cmd), name, opts);
    });
  context
    .command('use')
    .description('make a context the current one')
    .argument('<name>', 'context name')
    .addHelpText(
      'after',
      `\nExit: 0 ok, 4 no such context.
${envHelp(['NOETL_HOME'])}`,
    )
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const { contextUse } = await import('../api/context-actions.js');
      ctx.exitCode = await contextUse(ctx, globalFlags(cmd), name);
    });
  context
    .command('list')
    .description('list contexts (* marks the current one)')
    .option('-j, --json', JSON_HELP)
    .addHelpText('after', envHelp(['NOETL_HOME']))
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const { contextList } = await import('../api/context-actions.js');
      ctx.exitCode = await contextList(ctx, globalFlags(cmd), opts);
    });
  withServerOptions(
    context
      .command('current')
      .description('the current context, and the server the API commands would use now')
      .option('-j, --json', JSON_HELP),
  )
    .addHelpText('after', ENV)
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const { contextCurrent } = await import('../api/context-actions.js');
      ctx.exitCode = await contextCurrent(ctx, globalFlags(cmd), opts);
    });
  context
    .command('delete')
    .description('delete a context')
    .argument('<name>', 'context name')
    .addHelpText(
      'after',
      `\nExit: 0 ok, 4 no such context.
${envHelp(['NOETL_HOME'])}`,
    )
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const { contextDelete } = await import('../api/context-actions.js');
      ctx.exitCode = await contextDelete(ctx, globalFlags(cmd), name);
    });
}

/** `query`, `db init|validate`: the server's database. */
function registerDatabase(program: Command, ctx: CliContext): void {
  withServerOptions(
    program
      .command('query')
      .description('run SQL on the server database')
      .argument('<sql>', "SQL text; several statements return the last one's rows")
      .option('-s, --schema <schema>', "search path for the statement (default: the server's NOETL_SCHEMA)")
      .option('-f, --format <format>', 'table or json (default table)')
      .option('-j, --json', 'same as --format json'),
  )
    .addHelpText(
      'after',
      `\nExit: 0 ok, 2 SQL error, 3 server unavailable.
${ENV}\n\nExample:\n  noetl query "select execution_id, status from execution order by start_time desc limit 5"`,
    )
    .action(async (sql: string, opts: { schema?: string; format?: string; json?: boolean }, cmd: Command) => {
      const { queryAction } = await import('../api/database-actions.js');
      ctx.exitCode = await queryAction(ctx, globalFlags(cmd), sql, opts);
    });

  const db = program.command('db').description('init or validate the schema');
  withServerOptions(
    db.command('init').description('apply pending migrations').option('-j, --json', JSON_HELP),
  )
    .addHelpText('after', ENV)
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const { dbInit } = await import('../api/database-actions.js');
      ctx.exitCode = await dbInit(ctx, globalFlags(cmd), opts);
    });
  withServerOptions(
    db
      .command('validate')
      .description('check that every table exists and no migration is pending')
      .option('-j, --json', JSON_HELP),
  )
    .addHelpText(
      'after',
      `\nExit: 0 valid, 1 invalid.
${ENV}`,
    )
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const { dbValidate } = await import('../api/database-actions.js');
      ctx.exitCode = await dbValidate(ctx, globalFlags(cmd), opts);
    });
}

export function registerAdminCommands(program: Command, ctx: CliContext): void {
  registerContext(program, ctx);
  registerDatabase(program, ctx);
  program
    .command('completion')
    .description('shell completion script')
    .argument('<shell>', 'bash or zsh')
    .addHelpText(
      'after',
      `
Examples:
  noetl completion bash > ~/.local/share/bash-completion/completions/noetl
  echo 'source <(noetl completion zsh)' >> ~/.zshrc`,
    )
    .action(async (shell: string) => {
      const { completionScript } = await import('../completion.js');
      process.stdout.write(completionScript(program, shell));
    });
}
