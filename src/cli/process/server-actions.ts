import { ConflictError, NoetlError } from '../../shared/index.js';
import { connectHost, loadCliConfig, type CliConfig, type GlobalFlags } from '../cli-config.js';
import { EXIT } from '../exit.js';
import type { CliContext } from '../main.js';
import { note, print, printJson } from '../output.js';
import { killChild, launchAttached, launchDetached, probe, startFailure, waitHealthy } from './launch.js';
import { livePid, logPath, removePidFile, serverPidPath, writePidFile, type PidRecord } from './pid-file.js';
import { ensurePortFree } from './ports.js';
import { runAttached, showTail, startTimeoutMs } from './process-common.js';
import { terminate, STOP_GRACE_MS } from './stop.js';

export interface ServerStartOptions {
  readonly initDb?: boolean;
  readonly foreground?: boolean;
  readonly timeout?: string;
  readonly insecure?: boolean;
  readonly json?: boolean;
}

/** The environment of a started process: the CLI's, with NOETL_HOME made absolute. */
export function childEnv(
  config: CliConfig,
  extra: Readonly<Record<string, string>> = {},
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(config.env)) if (v !== undefined) env[k] = v;
  return { ...env, NOETL_HOME: config.home, ...extra };
}

/** `noetl server start`: spawns `node dist/server/main.js`, detached, and waits until healthy. */
export async function serverStart(
  ctx: CliContext,
  flags: GlobalFlags,
  opts: ServerStartOptions,
): Promise<number> {
  const config = loadCliConfig(ctx.env, flags);
  const timeoutMs = startTimeoutMs(opts.timeout, 120);
  const pidPath = serverPidPath(config.home);
  const state = await livePid(pidPath, 'server');
  if (state.record) {
    const at = state.record.url ? ` at ${state.record.url}` : '';
    throw new ConflictError(`server already running (pid ${state.record.pid})${at}`, {
      details: { hint: 'stop it with `noetl server stop`; see `noetl server status`' },
    });
  }
  if (state.staleRemoved) note(`removed a stale PID file (${pidPath}): its process is gone`);
  const { host, port } = config.bind;
  if (port === 0)
    throw new NoetlError('USAGE', 'server start needs a fixed port (--port or NOETL_PORT), not 0');
  await ensurePortFree(
    port,
    host,
    'the server',
    'stop what listens there, or choose another with --port / NOETL_PORT',
  );
  const url = `http://${connectHost(host)}:${port}`;
  const args = [
    '--host',
    host,
    '--port',
    String(port),
    ...(opts.initDb ? ['--init-db'] : []),
    ...(opts.insecure ? ['--insecure'] : []),
  ];
  const env = childEnv(config);
  const record = (pid: number, log?: string): PidRecord => ({
    pid,
    kind: 'server',
    url,
    host,
    port,
    started_at: new Date().toISOString(),
    ...(log !== undefined ? { log } : { foreground: true }),
  });
  if (opts.foreground) {
    const launched = await launchAttached({ kind: 'server', args, env });
    return runAttached(launched, pidPath, record(launched.child.pid ?? 0));
  }
  const logFile = logPath(config.home, 'server.log');
  const launched = await launchDetached({ kind: 'server', args, env, logFile });
  const pid = launched.child.pid ?? 0;
  await writePidFile(pidPath, record(pid, logFile));
  if (process.stderr.isTTY && !opts.json) note(`starting the server (pid ${pid}) on ${url} ...`);
  const outcome = await waitHealthy(launched, `${url}/api/health`, timeoutMs);
  if (outcome.kind !== 'healthy') {
    await killChild(launched);
    await removePidFile(pidPath);
    const { error, tail } = await startFailure('the server', outcome, logFile, launched.logOffset, timeoutMs);
    showTail(logFile, tail);
    throw error;
  }
  launched.child.unref();
  if (opts.json) printJson({ status: 'running', pid, url, log: logFile });
  else print(`server started (pid ${pid}) at ${url}\n  log: ${logFile}`);
  return EXIT.ok;
}

export interface StopOptions {
  readonly force?: boolean;
  readonly json?: boolean;
}

/** `noetl server stop`: SIGTERM, wait up to 10 s, SIGKILL with --force. */
export async function serverStop(ctx: CliContext, flags: GlobalFlags, opts: StopOptions): Promise<number> {
  const config = loadCliConfig(ctx.env, flags);
  const pidPath = serverPidPath(config.home);
  const state = await livePid(pidPath, 'server');
  if (!state.record) {
    const stale = state.staleRemoved ? ' (removed a stale PID file)' : '';
    if (opts.json) printJson({ status: 'not_running' });
    else print(`server is not running${stale}`);
    return EXIT.ok;
  }
  const { pid } = state.record;
  const outcome = await terminate(pid, opts.force === true);
  if (outcome === 'still-running') {
    note(`server (pid ${pid}) is still stopping after ${STOP_GRACE_MS / 1000}s`);
    note('  hint: wait, or kill it with `noetl server stop --force`');
    return EXIT.failed;
  }
  await removePidFile(pidPath);
  if (opts.json) printJson({ status: outcome, pid });
  else
    print(
      outcome === 'killed'
        ? `server killed (pid ${pid}): it did not stop within ${STOP_GRACE_MS / 1000}s`
        : `server stopped (pid ${pid})`,
    );
  return EXIT.ok;
}

async function health(url: string): Promise<Record<string, unknown> | undefined> {
  try {
    const res = await fetch(`${url}/api/health`, { signal: AbortSignal.timeout(3000) });
    const body = await res.json();
    return body !== null && typeof body === 'object'
      ? (body as Record<string, unknown>)
      : { status: res.status };
  } catch {
    return undefined;
  }
}

function healthLine(h: Record<string, unknown> | undefined): string {
  if (!h) return 'not answering';
  const bus = h['bus'] as { kind?: unknown; status?: unknown } | undefined;
  const parts = [
    typeof h['database'] === 'string' ? `database ${h['database']}` : undefined,
    bus && typeof bus.kind === 'string'
      ? `bus ${bus.kind} ${typeof bus.status === 'string' ? bus.status : ''}`.trim()
      : undefined,
  ].filter((p): p is string => p !== undefined);
  return `${typeof h['status'] === 'string' ? h['status'] : 'unknown'}${parts.length ? ` (${parts.join(', ')})` : ''}`;
}

/** `noetl server status`: the PID file's process and its /api/health. Exit 3 when not running. */
export async function serverStatus(
  ctx: CliContext,
  flags: GlobalFlags,
  opts: { json?: boolean },
): Promise<number> {
  const config = loadCliConfig(ctx.env, flags);
  const state = await livePid(serverPidPath(config.home), 'server');
  const rec = state.record;
  if (!rec) {
    // Not started by this CLI here; one may still answer where the commands would look.
    const url = config.explicitServer?.url ?? `http://${connectHost(config.bind.host)}:${config.bind.port}`;
    const h = (await probe(`${url}/api/health`)) ? await health(url) : undefined;
    if (opts.json) printJson({ running: false, managed: false, url, ...(h ? { health: h } : {}) });
    else if (h)
      print(`no server started by noetl in ${config.home}, but one answers at ${url}: ${healthLine(h)}`);
    else print(`server is not running${state.staleRemoved ? ' (removed a stale PID file)' : ''}`);
    return h ? EXIT.ok : EXIT.unavailable;
  }
  const url = rec.url ?? `http://127.0.0.1:${rec.port ?? 8082}`;
  const h = await health(url);
  if (opts.json) {
    printJson({
      running: true,
      pid: rec.pid,
      url,
      started_at: rec.started_at ?? null,
      log: rec.log ?? null,
      health: h ?? null,
    });
  } else {
    const since = rec.started_at ? `\n  started  ${rec.started_at}` : '';
    const log = rec.log ? `\n  log      ${rec.log}` : '';
    print(`server running (pid ${rec.pid}) at ${url}${since}\n  health   ${healthLine(h)}${log}`);
  }
  return EXIT.ok;
}
