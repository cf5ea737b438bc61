import { hostname } from 'node:os';
import { loadWorkerConfig } from '../../config/index.js';
import { ConfigError, ConflictError, NoetlError } from '../../shared/index.js';
import { connectHost, loadCliConfig, type CliConfig, type GlobalFlags } from '../cli-config.js';
import { localApiToken, readContexts, DEFAULT_SERVER_URL } from '../context.js';
import { EXIT } from '../exit.js';
import type { CliContext } from '../main.js';
import { note, print, printJson, table } from '../output.js';
import { killChild, launchAttached, launchDetached, startFailure, waitHealthy } from './launch.js';
import {
  checkWorkerName,
  livePid,
  logPath,
  removePidFile,
  serverPidPath,
  workerNames,
  workerPidPath,
  writePidFile,
  type PidRecord,
} from './pid-file.js';
import { ensurePortFree, freePort, isPortFree } from './ports.js';
import { runAttached, showTail, startTimeoutMs } from './process-common.js';
import { childEnv, type StopOptions } from './server-actions.js';
import { STOP_GRACE_MS, terminate } from './stop.js';

export interface WorkerStartOptions {
  readonly name?: string;
  readonly maxWorkers?: string;
  readonly pool?: string;
  readonly metricsPort?: string;
  readonly foreground?: boolean;
  readonly timeout?: string;
  readonly json?: boolean;
}

const DEFAULT_METRICS_PORT = 9090;

/**
 * The server a worker started here talks to: --server-url, --host/--port, NOETL_SERVER_URL,
 * NOETL_HOST/NOETL_PORT, then the server started by `noetl server start` in this NOETL_HOME, the
 * current context, the default.
 */
async function workerServerUrl(config: CliConfig): Promise<string> {
  if (config.explicitServer) return config.explicitServer.url;
  const local = await livePid(serverPidPath(config.home), 'server');
  if (local.record?.url) return local.record.url;
  const file = await readContexts(config.home);
  const name = config.context ?? file.current_context;
  const url = name !== undefined ? file.contexts[name]?.server_url : undefined;
  return typeof url === 'string' && url !== '' ? url : DEFAULT_SERVER_URL;
}

/**
 * What a worker started here sends as its API token: nothing to add when NOETL_API_TOKEN is set
 * (the worker reads it), else the token a local server generated into $NOETL_HOME/api-token when
 * it was started beyond loopback, for a server URL on this machine (as the CLI itself does).
 */
export async function workerTokenOverride(
  config: CliConfig,
  serverUrl: string,
): Promise<Record<string, string>> {
  if (config.read.has('NOETL_API_TOKEN')) return {};
  const token = await localApiToken(config.home, serverUrl);
  return token === undefined ? {} : { NOETL_API_TOKEN: token };
}

/** host:port of the worker's /health and /metrics: flag, env, else 9090 or a free port. */
async function metricsBind(
  config: CliConfig,
  opts: WorkerStartOptions,
): Promise<{ host: string; port: number }> {
  const explicitEnv = config.read.has('WORKER_METRICS_BIND') || config.read.has('PORT');
  const base = loadWorkerConfig({ env: config.env }).metricsBind;
  const hint = 'choose another with --metrics-port or WORKER_METRICS_BIND';
  if (opts.metricsPort !== undefined) {
    const port = Number(opts.metricsPort);
    if (!/^\d+$/.test(opts.metricsPort) || port < 1 || port > 65535) {
      throw new NoetlError(
        'USAGE',
        `--metrics-port must be a port number 1-65535, got '${opts.metricsPort}'`,
      );
    }
    await ensurePortFree(port, base.host, 'the worker metrics endpoint', hint);
    return { host: base.host, port };
  }
  if (explicitEnv) {
    if (base.port === 0) throw new NoetlError('USAGE', 'worker start needs a fixed metrics port, not 0');
    await ensurePortFree(base.port, base.host, 'the worker metrics endpoint', hint);
    return base;
  }
  const port = (await isPortFree(DEFAULT_METRICS_PORT, base.host))
    ? DEFAULT_METRICS_PORT
    : await freePort(base.host);
  return { host: base.host, port };
}

/** `noetl worker start`: spawns `node dist/worker/main.js`, detached, and waits for its /health. */
export async function workerStart(
  ctx: CliContext,
  flags: GlobalFlags,
  opts: WorkerStartOptions,
): Promise<number> {
  const config = loadCliConfig(ctx.env, flags);
  const name = checkWorkerName(opts.name ?? 'default');
  const timeoutMs = startTimeoutMs(opts.timeout, 60);
  const pidPath = workerPidPath(config.home, name);
  const state = await livePid(pidPath, 'worker');
  if (state.record) {
    throw new ConflictError(`worker '${name}' already running (pid ${state.record.pid})`, {
      details: { hint: `stop it with \`noetl worker stop --name ${name}\`, or start another with --name` },
    });
  }
  if (state.staleRemoved) note(`removed a stale PID file (${pidPath}): its process is gone`);
  if (!config.read.has('NATS_URL')) {
    throw new ConfigError(
      'a worker process needs NATS_URL (an embedded server runs its own in-process workers)',
      {
        details: {
          hint: 'start the server and the workers with NATS_URL and NOETL_DATABASE_URL set (docs/cli.md)',
        },
      },
    );
  }
  const serverUrl = await workerServerUrl(config);
  const bind = await metricsBind(config, opts);
  const overrides: Record<string, string> = {
    NOETL_SERVER_URL: serverUrl,
    ...(await workerTokenOverride(config, serverUrl)),
    WORKER_METRICS_BIND: `${bind.host.includes(':') ? `[${bind.host}]` : bind.host}:${bind.port}`,
    ...(config.read.has('WORKER_ID') ? {} : { WORKER_ID: `${hostname()}-${name}` }),
    ...(opts.pool !== undefined ? { WORKER_POOL_NAME: opts.pool } : {}),
    ...(opts.maxWorkers !== undefined ? { WORKER_MAX_CONCURRENT: opts.maxWorkers } : {}),
  };
  // Validate everything the worker will read now: a bad value fails here, not in a log.
  const workerConfig = loadWorkerConfig({ flags: overrides, env: config.env });
  const env = childEnv(config, overrides);
  const metricsUrl = `http://${connectHost(bind.host)}:${bind.port}`;
  const record = (pid: number, log?: string): PidRecord => ({
    pid,
    kind: 'worker',
    name,
    url: serverUrl,
    pool: workerConfig.poolName,
    metrics_url: metricsUrl,
    port: bind.port,
    started_at: new Date().toISOString(),
    ...(log !== undefined ? { log } : { foreground: true }),
  });
  if (opts.foreground) {
    const launched = await launchAttached({ kind: 'worker', args: [], env });
    return runAttached(launched, pidPath, record(launched.child.pid ?? 0));
  }
  const logFile = logPath(config.home, `worker-${name}.log`);
  const launched = await launchDetached({ kind: 'worker', args: [], env, logFile });
  const pid = launched.child.pid ?? 0;
  await writePidFile(pidPath, record(pid, logFile));
  if (process.stderr.isTTY && !opts.json) note(`starting worker '${name}' (pid ${pid}) for ${serverUrl} ...`);
  const outcome = await waitHealthy(launched, `${metricsUrl}/health`, timeoutMs);
  if (outcome.kind !== 'healthy') {
    await killChild(launched);
    await removePidFile(pidPath);
    const { error, tail } = await startFailure(
      `worker '${name}'`,
      outcome,
      logFile,
      launched.logOffset,
      timeoutMs,
    );
    showTail(logFile, tail);
    throw error;
  }
  launched.child.unref();
  if (opts.json) {
    printJson({ status: 'running', name, pid, server_url: serverUrl, metrics_url: metricsUrl, log: logFile });
  } else {
    print(
      `worker '${name}' started (pid ${pid}) for ${serverUrl}\n  metrics: ${metricsUrl}/metrics\n  log: ${logFile}`,
    );
  }
  return EXIT.ok;
}

async function liveWorkers(home: string): Promise<PidRecord[]> {
  const out: PidRecord[] = [];
  for (const name of await workerNames(home)) {
    const { record } = await livePid(workerPidPath(home, name), 'worker');
    if (record) out.push({ ...record, name });
  }
  return out;
}

/** `noetl worker stop`: the named worker, the only one running, or `--all`. */
export async function workerStop(
  ctx: CliContext,
  flags: GlobalFlags,
  opts: StopOptions & { name?: string; all?: boolean },
): Promise<number> {
  const config = loadCliConfig(ctx.env, flags);
  let targets: string[];
  if (opts.name !== undefined) targets = [checkWorkerName(opts.name)];
  else {
    const live = (await liveWorkers(config.home)).map((w) => w.name ?? '');
    if (live.length > 1 && !opts.all) {
      throw new NoetlError(
        'USAGE',
        `${live.length} workers are running (${live.join(', ')}): name one with --name, or use --all`,
      );
    }
    targets = live;
  }
  if (targets.length === 0) {
    if (opts.json) printJson({ stopped: [] });
    else print('no worker is running');
    return EXIT.ok;
  }
  const results: { name: string; status: string; pid?: number }[] = [];
  let code: number = EXIT.ok;
  for (const name of targets) {
    const pidPath = workerPidPath(config.home, name);
    const { record } = await livePid(pidPath, 'worker');
    if (!record) {
      results.push({ name, status: 'not_running' });
      if (!opts.json) print(`worker '${name}' is not running`);
      continue;
    }
    const outcome = await terminate(record.pid, opts.force === true);
    if (outcome === 'still-running') {
      code = EXIT.failed;
      results.push({ name, status: outcome, pid: record.pid });
      note(
        `worker '${name}' (pid ${record.pid}) is still stopping after ${STOP_GRACE_MS / 1000}s (finishing its commands)`,
      );
      note(`  hint: wait, or kill it with \`noetl worker stop --name ${name} --force\``);
      continue;
    }
    await removePidFile(pidPath);
    results.push({ name, status: outcome, pid: record.pid });
    if (!opts.json)
      print(`worker '${name}' ${outcome === 'killed' ? 'killed' : 'stopped'} (pid ${record.pid})`);
  }
  if (opts.json) printJson({ stopped: results });
  return code;
}

async function workerHealth(url: string | undefined): Promise<{ status: string; running?: number }> {
  if (!url) return { status: 'unknown' };
  try {
    const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
    const body = (await res.json()) as { status?: unknown; running?: unknown };
    return {
      status: typeof body.status === 'string' ? body.status : String(res.status),
      ...(typeof body.running === 'number' ? { running: body.running } : {}),
    };
  } catch {
    return { status: 'not answering' };
  }
}

/** `noetl worker list`: the workers started from this NOETL_HOME that are alive. */
export async function workerList(
  ctx: CliContext,
  flags: GlobalFlags,
  opts: { json?: boolean },
): Promise<number> {
  const config = loadCliConfig(ctx.env, flags);
  const workers = await liveWorkers(config.home);
  const rows = await Promise.all(
    workers.map(async (w) => ({ ...w, health: await workerHealth(w.metrics_url) })),
  );
  if (opts.json) {
    printJson(
      rows.map((w) => ({
        name: w.name,
        pid: w.pid,
        pool: w.pool ?? null,
        status: w.health.status,
        running_commands: w.health.running ?? null,
        server_url: w.url ?? null,
        metrics_url: w.metrics_url ?? null,
        started_at: w.started_at ?? null,
        log: w.log ?? null,
      })),
    );
  } else if (rows.length === 0) {
    print('no worker is running (start one with `noetl worker start`)');
  } else {
    print(
      table(
        ['name', 'pid', 'pool', 'status', 'running', 'server', 'metrics', 'started'],
        rows.map((w) => [
          w.name,
          w.pid,
          w.pool,
          w.health.status,
          w.health.running,
          w.url,
          w.metrics_url,
          w.started_at,
        ]),
      ),
    );
  }
  return EXIT.ok;
}
