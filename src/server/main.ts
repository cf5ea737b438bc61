import { hostname } from 'node:os';
import { pathToFileURL } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { MemoryBus, NatsBus, type CommandBus } from '../bus/index.js';
import { isLoopbackHost, loadServerConfig, type ServerConfig } from '../config/index.js';
import {
  errorMessage,
  NoetlError,
  openTracing,
  SnowflakeIdGenerator,
  systemClock,
  toNoetlError,
  type Logger,
} from '../shared/index.js';
import { makePrivate, openStore, type Store } from '../store/index.js';
import { templates } from '../template/index.js';
import { closeToolResources, defaultRegistry } from '../tools/index.js';
import { ControlPlaneClient } from '../client/index.js';
import { Worker } from '../worker/index.js';
import { resolveApiToken } from './api-token.js';
import { buildApp } from './app.js';
import { EnvelopeCipher, resolveEncryptionKey } from './crypto/index.js';
import { InProcessTransport } from './in-process-transport.js';
import { createServerLogger } from './logging.js';
import { createServerMetrics } from './metrics.js';
import { Orchestrator } from './orchestrator/orchestrator.js';
import { Sweeper } from './orchestrator/sweeps.js';
import { orchestrationRoutes } from './routes/orchestration.js';
import { scheduleRoutes } from './routes/schedules.js';
import { storeConfigOf } from './store-config.js';
import { instrumentStore } from './store-metrics.js';
import { RuntimeSweeper } from './sweeper.js';
import { ingressRoutes } from './triggers/ingress.js';
import { NatsListeners } from './triggers/nats-listener.js';
import { Scheduler } from './triggers/scheduler.js';

export interface ServerHandle {
  readonly app: FastifyInstance;
  readonly store: Store;
  readonly bus: CommandBus;
  readonly orchestrator: Orchestrator;
  /** `http://host:port` the server listens on. */
  readonly url: string;
  readonly workers: readonly Worker[];
  /** Graceful stop: workers drain, HTTP closes, sweeps stop, bus and store close. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Environment handed to in-process workers' tools (python/shell). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly logger?: ReturnType<typeof createServerLogger>;
}

async function connectBus(
  config: ServerConfig,
  logger: Logger,
): Promise<{ bus: CommandBus; kind: 'memory' | 'nats' }> {
  if (!config.nats) return { bus: new MemoryBus(), kind: 'memory' };
  const n = config.nats;
  // NatsSettings uses NatsBusOptions' names: the settings go over as they are.
  const bus = await NatsBus.connect({ ...n, name: `noetl-server-${hostname()}`, logger });
  return { bus, kind: 'nats' };
}

/**
 * Starts the control plane: store (PostgreSQL, or PGlite under NOETL_HOME), bus (NATS JetStream,
 * or in-process), HTTP API, sweeps; with the in-process bus also a pool of in-process workers, so
 * one command gives a working system (DESIGN.md section 1).
 */
export async function startServer(given: ServerConfig, options: StartOptions = {}): Promise<ServerHandle> {
  const logger =
    options.logger ??
    createServerLogger({
      level: given.logLevel,
      name: given.serverName,
      format: given.logFormat,
    });
  // Before anything is opened: a non-loopback address without a token is refused or given one.
  const { config } = await resolveApiToken(given, logger);
  await makePrivate(config.home); // an install from before the umask: older files were 0644/0666
  const ids = new SnowflakeIdGenerator(systemClock, config.machineId);
  const metrics = config.metricsEnabled ? createServerMetrics() : undefined;
  const opened = await openStore(storeConfigOf(config, { ids, logger }));
  const store = metrics ? instrumentStore(opened, metrics) : opened;
  const cleanup: (() => Promise<void>)[] = [() => store.close()];
  // OpenTelemetry: the SDK is loaded only when an OTLP endpoint is configured; the last spans
  // are exported after everything else stopped.
  const tracing = config.tracing ? await openTracing(config.tracing) : undefined;
  if (tracing) cleanup.push(() => tracing.shutdown());
  try {
    const key = await resolveEncryptionKey(config, logger);
    const cipher = new EnvelopeCipher(key.key);
    const { bus, kind } = await connectBus(config, logger);
    cleanup.unshift(() => bus.close());
    const listenUrl = (port: number): string => {
      const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
      return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    };
    // The notification's server_url is where workers claim: the public URL when given.
    let serverUrl = config.publicServerUrl;
    const orchestrator = new Orchestrator({
      store,
      bus,
      ids,
      clock: systemClock,
      templates: templates(),
      logger,
      get serverUrl() {
        return serverUrl;
      },
      playbookLimits: config.playbookLimits,
      stepBudget: config.maxStepsPerExecution,
      ...(tracing ? { tracing } : {}),
    });
    const workers: Worker[] = [];
    const app = await buildApp({
      config,
      store,
      cipher,
      logger,
      ...(metrics ? { metrics } : {}),
      bus: {
        kind,
        status: () => (bus.connected ? 'connected' : 'disconnected'),
      },
      plugins: [
        orchestrationRoutes({ orchestrator, store }),
        scheduleRoutes({ store, runner: orchestrator, clock: systemClock }),
        ingressRoutes({
          store,
          cipher,
          runner: orchestrator,
          clock: systemClock,
          logger,
          loopbackOnly: isLoopbackHost(config.host),
        }),
      ],
      healthChecks: [
        {
          name: 'workers',
          check: () => ({
            ok: true,
            detail: { embedded: workers.reduce((n, w) => n + (w.state === 'running' ? 1 : 0), 0) },
          }),
        },
      ],
    });
    cleanup.unshift(() => app.close());
    // The executions list's first page (the web UI's list) is prepared and its index pages read
    // before the first request: on PGlite the first run plans the statement (~200 ms with
    // 100,000 executions on a loaded machine).
    await store.executions.page({ limit: 50 });
    const address = await app.listen({ host: config.host, port: config.port });
    const port = Number(new URL(address).port);
    const url = listenUrl(port);
    // in-process workers reach this very server; remote ones use the public URL
    if (config.port === 0 || !bus.capabilities.crossProcess) serverUrl = url;
    const sweeper = new Sweeper(orchestrator, logger, {
      intervalMs: 2_000,
      unpublishedAfterMs: 3_000,
      unclaimedAfterMs: 60_000,
      workerOfflineAfterMs: config.runtimeOfflineSeconds * 1000,
    });
    if (!bus.capabilities.durable) {
      // notifications did not survive the previous process: re-publish what it left
      const recovered = await sweeper.recoverEmbedded();
      if (recovered.released + recovered.published > 0)
        logger.info(recovered, 'recovered commands of the previous process');
    }
    sweeper.start();
    cleanup.unshift(() => sweeper.stop());
    const runtimeSweeper = new RuntimeSweeper({
      runtime: store.runtime,
      intervalSeconds: config.runtimeSweepIntervalSeconds,
      offlineSeconds: config.runtimeOfflineSeconds,
      logger,
    });
    runtimeSweeper.start();
    const scheduler = new Scheduler({ store, runner: orchestrator, clock: systemClock, logger });
    scheduler.start();
    cleanup.unshift(() => scheduler.stop());
    // NATS pull subscriptions (kind: Subscription, spec.source: nats); stopped before the store
    const natsListeners = new NatsListeners({
      store,
      cipher,
      runner: orchestrator,
      clock: systemClock,
      logger,
      ...(config.nats ? { nats: config.nats } : {}),
    });
    natsListeners.start();
    cleanup.unshift(() => natsListeners.stop());
    cleanup.unshift(() => runtimeSweeper.stop());
    cleanup.unshift(() => orchestrator.flushPublished());
    if (!bus.capabilities.crossProcess && config.embeddedWorkers > 0) {
      const workerId = `embedded-${hostname()}-${process.pid}`;
      const worker = new Worker({
        workerId,
        maxConcurrent: config.embeddedWorkers,
        heartbeatMs: 15_000,
        // A command's end hands its worker the next command, claimed in the same commit.
        takeNext: true,
        // The same API a remote worker uses, injected into this process's app: no socket.
        client: new ControlPlaneClient({
          serverUrl: url,
          ...(config.apiToken ? { apiToken: config.apiToken } : {}),
          transport: new InProcessTransport(app),
        }),
        bus,
        registry: defaultRegistry(),
        logger: logger.child({ component: 'worker', workerId }),
        env: options.env ?? {},
        maxBodyBytes: config.bodyLimitBytes,
        ...(tracing ? { tracing } : {}),
        stepOutputMaxBytes: config.stepOutputMaxBytes,
        pythonPool: config.pythonPool,
      });
      await worker.start();
      workers.push(worker);
    }
    logger.info(
      {
        url,
        database: config.database.kind,
        bus: kind,
        embeddedWorkers: workers.length ? config.embeddedWorkers : 0,
      },
      'noetl server started',
    );
    let stopping: Promise<void> | undefined;
    return {
      app,
      store,
      bus,
      orchestrator,
      url,
      workers,
      stop: () => {
        stopping ??= (async () => {
          for (const w of workers) await w.stop();
          await closeToolResources().catch(() => undefined);
          for (const fn of cleanup) {
            try {
              await fn();
            } catch (err) {
              logger.warn({ err: errorMessage(err) }, 'shutdown step failed');
            }
          }
          logger.info({}, 'noetl server stopped');
        })();
        return stopping;
      },
    };
  } catch (err) {
    for (const fn of cleanup) await fn().catch(() => undefined);
    throw err;
  }
}

const USAGE = `Usage: noetl-server [--host HOST] [--port PORT] [--insecure] [--init-db]

Starts the NoETL control plane, on 127.0.0.1 unless --host says otherwise. Any other address
needs an API token: NOETL_API_TOKEN, else one generated into $NOETL_HOME/api-token (mode 0600);
--insecure (NOETL_INSECURE=true) starts it without one, on purpose (see docs/security.md). With no database configured it keeps its data under
$NOETL_HOME/data (embedded PostgreSQL, PGlite) and runs in-process workers; with
NOETL_DATABASE_URL (or POSTGRES_*) and NATS_URL it is the distributed control plane.
Environment: see docs/configuration.md (NOETL_HOST, NOETL_PORT, NOETL_HOME,
NOETL_DATABASE_URL, POSTGRES_*, NATS_URL, NOETL_ENCRYPTION_KEY, NOETL_API_TOKEN, ...).
Pending migrations are always applied at start; --init-db is accepted for compatibility.
`;

function parseFlags(argv: readonly string[]): Record<string, string> {
  const flags: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') flags['help'] = 'true';
    else if (arg === '--init-db') flags['NOETL_INIT_DB'] = 'true';
    else if (arg === '--insecure') flags['NOETL_INSECURE'] = 'true';
    else if (arg === '--host' || arg === '--port') {
      const value = argv[++i];
      if (value === undefined) throw new NoetlError('USAGE', `${arg} needs a value`);
      flags[arg === '--host' ? 'NOETL_HOST' : 'NOETL_PORT'] = value;
    } else throw new NoetlError('USAGE', `unknown argument '${arg}'`);
  }
  return flags;
}

/** `noetl-server` / `node dist/server/main.js`. */
export async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  process.umask(0o077); // everything it writes under NOETL_HOME is private (docs/security.md)
  let flags: Record<string, string>;
  try {
    flags = parseFlags(argv);
  } catch (err) {
    process.stderr.write(`error[USAGE]: ${errorMessage(err)}\n${USAGE}`);
    return 2;
  }
  if (flags['help']) {
    process.stdout.write(USAGE);
    return 0;
  }
  let handle: ServerHandle;
  try {
    const config = loadServerConfig({ flags, env });
    handle = await startServer(config, { env });
  } catch (err) {
    const e = toNoetlError(err);
    const inUse = /EADDRINUSE/.test(e.message) || (err as NodeJS.ErrnoException).code === 'EADDRINUSE';
    process.stderr.write(
      inUse
        ? `error[CONFLICT]: port ${flags['NOETL_PORT'] ?? env['NOETL_PORT'] ?? 8082} is already in use\n`
        : `error[${e.code}]: ${e.message.split('\n')[0]}\n`,
    );
    return inUse ? 5 : e.code === 'CONFIG_INVALID' ? 2 : 1;
  }
  await new Promise<void>((resolve) => {
    const onSignal = (): void => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      void handle.stop().finally(resolve);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2), process.env);
}
