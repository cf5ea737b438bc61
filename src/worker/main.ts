import { createServer, type Server } from 'node:http';
import { hostname } from 'node:os';
import { pathToFileURL } from 'node:url';
import { pino } from 'pino';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { NatsBus } from '../bus/index.js';
import { loadWorkerConfig, type WorkerConfig } from '../config/index.js';
import { ConfigError, errorMessage, openTracing, toNoetlError, type Logger } from '../shared/index.js';
import { closeToolResources, defaultRegistry } from '../tools/index.js';
import { ControlPlaneClient } from '../client/index.js';
import { formatDestination } from './log-format.js';
import { Worker } from './worker.js';

export interface WorkerHandle {
  readonly worker: Worker;
  readonly metricsUrl: string;
  stop(): Promise<void>;
}

const USAGE = `Usage: noetl-worker

Runs a NoETL worker: pulls command notifications from NATS JetStream, claims each command from
the control plane, runs its tool and reports the events. Configured by environment:
  NOETL_SERVER_URL        control plane URL (http://localhost:8082)
  NATS_URL                NATS server (required), NATS_STREAM, NATS_CONSUMER, NATS_SUBJECT
  WORKER_ID               unique id (default <host>-<pid>-<random>)
  WORKER_POOL_NAME        pool whose commands it takes (default: every pool)
  WORKER_MAX_CONCURRENT   commands run at once (4)
  WORKER_HEARTBEAT_INTERVAL seconds between heartbeats (15)
  WORKER_METRICS_BIND     host:port of /metrics and /health (127.0.0.1:9090, a free port
                          when 9090 is taken; a port that cannot be had is a warning)
  WORKER_GRACE_SECONDS    on SIGTERM, how long in-flight commands may finish (30)
  NOETL_API_TOKEN         bearer token of the control plane, when it requires one
See docs/deploy.md and docs/configuration.md.
`;

function metricsServer(config: WorkerConfig, worker: () => Worker | undefined, registry: Registry): Server {
  return createServer((req, res) => {
    if (req.url === '/metrics') {
      registry
        .metrics()
        .then((text) => {
          res.writeHead(200, { 'content-type': registry.contentType });
          res.end(text);
        })
        .catch(() => {
          res.writeHead(500).end();
        });
      return;
    }
    if (req.url === '/health') {
      const w = worker();
      const ok = w?.state === 'running';
      res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          status: ok ? 'ok' : (w?.state ?? 'starting'),
          worker_id: config.workerId,
          running: w?.running ?? 0,
        }),
      );
      return;
    }
    res
      .writeHead(404, { 'content-type': 'application/json' })
      .end(JSON.stringify({ error: 'not found', status: 404, code: 'NOT_FOUND' }));
  });
}

function listen(http: Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    http.once('error', onError);
    http.listen(port, host, () => {
      http.off('error', onError);
      resolve();
    });
  });
}

/** Whether the metrics address was asked for (WORKER_METRICS_BIND or PORT), not defaulted. */
function metricsBindExplicit(env: NodeJS.ProcessEnv): boolean {
  return env['WORKER_METRICS_BIND'] !== undefined || env['PORT'] !== undefined;
}

/**
 * Opens /metrics and /health. The default address is loopback; when its port is taken (another
 * worker on this machine) the listener moves to a free port. An address that cannot be had is
 * a warning, never the end of the worker: it runs without the listener. Returns its URL ('' when
 * none).
 */
async function listenMetrics(
  http: Server,
  config: WorkerConfig,
  explicit: boolean,
  logger: Logger,
): Promise<string> {
  const { host, port } = config.metricsBind;
  const url = (): string => {
    const address = http.address();
    const shown = host.includes(':') ? `[${host}]` : host;
    return typeof address === 'object' && address ? `http://${shown}:${address.port}` : '';
  };
  try {
    await listen(http, port, host);
    return url();
  } catch (err) {
    let failure: unknown = err;
    if (!explicit && (err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      try {
        await listen(http, 0, host);
        logger.warn(
          { port, metrics: url() },
          `metrics port ${port} is in use: listening on a free port (set WORKER_METRICS_BIND to choose)`,
        );
        return url();
      } catch (again) {
        failure = again;
      }
    }
    logger.warn(
      { bind: `${host}:${port}`, err: errorMessage(failure) },
      'metrics listener not started: the worker runs without /metrics and /health',
    );
    return '';
  }
}

/** Starts a worker process's parts: NATS bus, worker, metrics endpoint. */
export async function startWorker(
  config: WorkerConfig,
  env: NodeJS.ProcessEnv,
  logger: Logger,
  graceMs = 30_000,
): Promise<WorkerHandle> {
  if (!config.nats) {
    throw new ConfigError(
      'a worker process needs NATS_URL (the embedded server runs its own in-process workers)',
    );
  }
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const commands = new Counter({
    name: 'noetl_worker_commands_total',
    help: 'Commands run, by outcome',
    labelNames: ['status'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'noetl_worker_command_duration_seconds',
    help: 'Tool run time of commands',
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120],
    registers: [registry],
  });
  const holder: { worker?: Worker } = {};
  new Gauge({
    name: 'noetl_worker_in_flight',
    help: 'Commands running now',
    registers: [registry],
    collect() {
      this.set(holder.worker?.running ?? 0);
    },
  });
  const http = metricsServer(config, () => holder.worker, registry);
  const metricsUrl = await listenMetrics(http, config, metricsBindExplicit(env), logger);
  const n = config.nats;
  // NatsSettings uses NatsBusOptions' names: the settings go over as they are.
  const bus = await NatsBus.connect({ ...n, name: `noetl-worker-${config.workerId}`, logger });
  // OpenTelemetry: the SDK is loaded only when an OTLP endpoint is configured.
  const tracing = config.tracing ? await openTracing(config.tracing) : undefined;
  const worker = new Worker({
    ...(tracing ? { tracing } : {}),
    workerId: config.workerId,
    ...(config.poolName !== 'default' ? { pool: config.poolName } : {}),
    maxConcurrent: config.maxConcurrent,
    heartbeatMs: config.heartbeatIntervalSeconds * 1000,
    // With each command's end the worker takes one command it decides (docs/architecture.md).
    takeNext: true,
    client: new ControlPlaneClient({
      serverUrl: config.serverUrl,
      ...(config.apiToken ? { apiToken: config.apiToken } : {}),
    }),
    bus,
    registry: defaultRegistry(),
    logger,
    env,
    graceMs,
    stepOutputMaxBytes: config.stepOutputMaxBytes,
    pythonPool: config.pythonPool,
    onCommand: (o) => {
      commands.inc({ status: o.status });
      duration.observe(o.durationMs / 1000);
    },
  });
  holder.worker = worker;
  await worker.start();
  let stopping: Promise<void> | undefined;
  return {
    worker,
    metricsUrl,
    stop: () => {
      stopping ??= (async () => {
        await worker.stop();
        await closeToolResources().catch(() => undefined);
        await bus.close().catch(() => undefined);
        await tracing?.shutdown().catch(() => undefined);
        await new Promise<void>((resolve) => http.close(() => resolve()));
      })();
      return stopping;
    },
  };
}

/** `noetl-worker` / `node dist/worker/main.js`. */
export async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (argv.length > 0) {
    process.stderr.write(
      `error[USAGE]: unknown argument '${argv[0]}' (the worker is configured by environment)\n`,
    );
    return 2;
  }
  let handle: WorkerHandle;
  let logger: Logger;
  try {
    const config = loadWorkerConfig({ env });
    logger = pino(
      {
        level: config.logLevel,
        name: 'noetl-worker',
        base: { workerId: config.workerId, host: hostname() },
        redact: { paths: ['password', 'token', 'authorization', '*.password', '*.token'], censor: '***' },
        timestamp: pino.stdTimeFunctions.isoTime,
      },
      formatDestination(config.logFormat, pino.destination(1), process.stdout.isTTY === true),
    );
    handle = await startWorker(config, env, logger, config.graceSeconds * 1000);
  } catch (err) {
    const e = toNoetlError(err);
    process.stderr.write(`error[${e.code}]: ${e.message.split('\n')[0]}\n`);
    return e.code === 'CONFIG_INVALID' ? 2 : 1;
  }
  logger.info({ metrics: handle.metricsUrl }, 'worker ready');
  await new Promise<void>((resolve) => {
    const onSignal = (signal: string): void => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      logger.info({ signal }, 'stopping: no new commands, finishing in-flight ones');
      handle
        .stop()
        .catch((err: unknown) => logger.error({ err: errorMessage(err) }, 'stop failed'))
        .finally(resolve);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2), process.env);
}
