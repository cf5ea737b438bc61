import type { Command } from 'commander';
import type { CliContext } from '../main.js';
import type { WorkerStartOptions } from '../process/worker-actions.js';
import { globalFlags, JSON_HELP, withServerOptions } from './common.js';
import { envHelp, processEnvHelp } from './env-help.js';

const PID_NOTE = `
Files: $NOETL_HOME/noetl_server.pid (JSON: pid, url, port, started_at, log), logs in
$NOETL_HOME/logs/. Exit: 0 ok, 1 failed to start or still stopping, 2 bad flag or setting,
5 already running or port taken.`;

/** `noetl server start|stop|status`: the control plane as a background process. */
function registerServer(program: Command, ctx: CliContext): void {
  const server = program.command('server').description('start, stop, check the server process');

  withServerOptions(
    server
      .command('start')
      .description('start the server in the background and wait until it is healthy')
      .option('--init-db', 'accepted for NoETL compatibility (migrations are always applied at start)')
      .option('--foreground', 'run attached to this terminal (Ctrl-C stops it)')
      .option('--timeout <seconds>', 'how long to wait for /api/health (default 120)')
      .option('--insecure', 'listen on a non-loopback --host without an API token, on purpose')
      .option('-j, --json', JSON_HELP),
    'bind',
  )
    .addHelpText(
      'after',
      `
The server listens on 127.0.0.1. Any other --host needs an API token: NOETL_API_TOKEN, else one
is generated into $NOETL_HOME/api-token (mode 0600), which this CLI reads for local servers.
--insecure (NOETL_INSECURE=true) opens it without one (see docs/security.md).
With no database configured the server is embedded: PGlite under $NOETL_HOME/data and
in-process workers. With NOETL_DATABASE_URL (or POSTGRES_*) and NATS_URL it is the distributed
control plane (then NOETL_ENCRYPTION_KEY is required), and \`noetl worker start\` adds workers.
${PID_NOTE}
${processEnvHelp('server')}

Examples:
  noetl server start
  noetl server start --port 9000 --json
  NOETL_DATABASE_URL=postgres://noetl@localhost/noetl NATS_URL=nats://localhost:4222 \\
    NOETL_ENCRYPTION_KEY=$(openssl rand -base64 32) noetl server start --init-db`,
    )
    .action(
      async (
        opts: {
          initDb?: boolean;
          foreground?: boolean;
          timeout?: string;
          insecure?: boolean;
          json?: boolean;
        },
        cmd: Command,
      ) => {
        const { serverStart } = await import('../process/server-actions.js');
        ctx.exitCode = await serverStart(ctx, globalFlags(cmd), opts);
      },
    );

  server
    .command('stop')
    .description('stop the server: SIGTERM, wait up to 10 s (then SIGKILL with --force)')
    .option('-f, --force', 'kill it if it has not stopped after 10 s')
    .option('-j, --json', JSON_HELP)
    .addHelpText(
      'after',
      `\nExit: 0 stopped (or was not running), 1 still stopping after 10 s.
${envHelp(['NOETL_HOME'])}`,
    )
    .action(async (opts: { force?: boolean; json?: boolean }, cmd: Command) => {
      const { serverStop } = await import('../process/server-actions.js');
      ctx.exitCode = await serverStop(ctx, globalFlags(cmd), opts);
    });

  withServerOptions(
    server
      .command('status')
      .description('is the server running? its pid, URL, start time and health')
      .option('-j, --json', JSON_HELP),
    'bind',
  )
    .addHelpText(
      'after',
      `\nExit: 0 running, 3 not running.
${envHelp(['NOETL_HOME', 'NOETL_HOST', 'NOETL_PORT'])}`,
    )
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const { serverStatus } = await import('../process/server-actions.js');
      ctx.exitCode = await serverStatus(ctx, globalFlags(cmd), opts);
    });
}

/** `noetl worker start|stop|list`: worker processes of the distributed mode. */
function registerWorker(program: Command, ctx: CliContext): void {
  const worker = program.command('worker').description('start, stop, list worker processes');

  withServerOptions(
    worker
      .command('start')
      .description('start a worker in the background and wait until it is healthy')
      .option(
        '-n, --name <name>',
        'name of this worker: PID file noetl_worker_<name>.pid (default "default")',
      )
      .option('-m, --max-workers <n>', 'commands it runs at once (env WORKER_MAX_CONCURRENT, default 4)')
      .option('--pool <pool>', 'pool whose commands it takes (env WORKER_POOL_NAME)')
      .option(
        '--metrics-port <port>',
        'port of its /health and /metrics (env WORKER_METRICS_BIND; default 9090, or a free one)',
      )
      .option('--foreground', 'run attached to this terminal (Ctrl-C stops it)')
      .option('--timeout <seconds>', 'how long to wait for its /health (default 60)')
      .option('-j, --json', JSON_HELP),
  )
    .addHelpText(
      'after',
      `
A worker needs NATS_URL and a distributed server. It talks to --server-url, --host/--port,
NOETL_SERVER_URL or NOETL_HOST/NOETL_PORT, else to the server \`noetl server start\` started in
this NOETL_HOME, else the current context, else http://localhost:8082.
Files: $NOETL_HOME/noetl_worker_<name>.pid (JSON), log $NOETL_HOME/logs/worker-<name>.log.
Exit: 0 ok, 1 failed to start, 2 bad flag or setting (e.g. no NATS_URL), 5 already running or
port taken.
${processEnvHelp('worker')}

Examples:
  noetl worker start --name a
  noetl worker start --name b --max-workers 8 --metrics-port 9091`,
    )
    .action(async (opts: WorkerStartOptions, cmd: Command) => {
      const { workerStart } = await import('../process/worker-actions.js');
      ctx.exitCode = await workerStart(ctx, globalFlags(cmd), opts);
    });

  worker
    .command('stop')
    .description('stop a worker: SIGTERM (it finishes its commands), wait up to 10 s')
    .option('-n, --name <name>', 'the worker to stop (default: the only one running)')
    .option('--all', 'stop every worker started from this NOETL_HOME')
    .option('-f, --force', 'kill it if it has not stopped after 10 s')
    .option('-j, --json', JSON_HELP)
    .addHelpText(
      'after',
      `\nExit: 0 stopped (or none running), 1 still stopping, 2 several running and no --name.
${envHelp(['NOETL_HOME'])}`,
    )
    .action(async (opts: { name?: string; all?: boolean; force?: boolean; json?: boolean }, cmd: Command) => {
      const { workerStop } = await import('../process/worker-actions.js');
      ctx.exitCode = await workerStop(ctx, globalFlags(cmd), opts);
    });

  worker
    .command('list')
    .description('the workers started from this NOETL_HOME: pid, pool, health, metrics URL')
    .option('-j, --json', JSON_HELP)
    .addHelpText('after', envHelp(['NOETL_HOME']))
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const { workerList } = await import('../process/worker-actions.js');
      ctx.exitCode = await workerList(ctx, globalFlags(cmd), opts);
    });
}

export function registerProcessCommands(program: Command, ctx: CliContext): void {
  registerServer(program, ctx);
  registerWorker(program, ctx);
}
