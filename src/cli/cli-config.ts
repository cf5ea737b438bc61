// Direct imports of the two light config modules: config/index.js would also load `yaml`
// (~150 ms), which no command needs before it reads a file (scripts/check-imports.mjs).
import { ConfigReader } from '../config/sources.js';
import { NoetlError } from '../shared/index.js';

/** The process environment as main() hands it over: the CLI reads `process.env` nowhere else. */
export type Env = Readonly<Record<string, string | undefined>>;

/** The global flags (`noetl --server-url ... <command>`), as commander parses them. */
export interface GlobalFlags {
  readonly serverUrl?: string;
  readonly host?: string;
  readonly port?: string;
  readonly context?: string;
}

/** Where the server address came from (said in `--debug` output and `server status`). */
export type UrlSource = '--server-url' | '--host/--port' | 'NOETL_SERVER_URL' | 'NOETL_HOST/NOETL_PORT';

/**
 * The CLI's settings: flags > env > defaults, read through the same ConfigReader as the server
 * and worker (STYLE.md 14), so a bad value fails the same way ("NOETL_PORT (env) must be...").
 */
export interface CliConfig {
  /** The whole environment, passed on to the processes the CLI starts. */
  readonly env: Env;
  /** Typed access to the environment (for settings a command reads itself). */
  readonly read: ConfigReader;
  /** `NOETL_HOME`, absolute: config.yaml, PID files, logs/. */
  readonly home: string;
  /** `NOETL_API_TOKEN`: sent as a bearer token. */
  readonly apiToken?: string;
  /** `--context`: the context to use instead of the current one. */
  readonly context?: string;
  /** The server address given by flags or env, else undefined (then: context, default). */
  readonly explicitServer?: { readonly url: string; readonly from: UrlSource };
  /** Host and port of `server start`: flags > NOETL_HOST/NOETL_PORT > 127.0.0.1:8082. */
  readonly bind: { readonly host: string; readonly port: number };
}

/** A host the server binds to, as a client reaches it. */
export function connectHost(host: string): string {
  const h = host === '0.0.0.0' || host === '::' || host === '' ? '127.0.0.1' : host;
  return h.includes(':') ? `[${h}]` : h;
}

function checkUrl(value: string, from: string): string {
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new NoetlError('USAGE', `${from} must be a URL like http://localhost:8082, got '${value}'`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new NoetlError('USAGE', `${from} must use http: or https:, got '${value}'`);
  }
  return value.replace(/\/+$/, '');
}

export function loadCliConfig(env: Env, flags: GlobalFlags): CliConfig {
  const fromFlags = new ConfigReader({
    flags: {
      ...(flags.serverUrl !== undefined ? { NOETL_SERVER_URL: flags.serverUrl } : {}),
      ...(flags.host !== undefined ? { NOETL_HOST: flags.host } : {}),
      ...(flags.port !== undefined ? { NOETL_PORT: flags.port } : {}),
    },
  });
  const fromEnv = new ConfigReader({ env });
  const read = new ConfigReader({
    flags: {
      ...(flags.host !== undefined ? { NOETL_HOST: flags.host } : {}),
      ...(flags.port !== undefined ? { NOETL_PORT: flags.port } : {}),
    },
    env,
  });
  const host = read.stringOr('NOETL_HOST', '127.0.0.1');
  const port = read.int('NOETL_PORT', 8082, { min: 0, max: 65535 });
  // Flags beat env (STYLE.md 14): --server-url, --host/--port, --context (resolved in
  // context.ts), then NOETL_SERVER_URL, NOETL_HOST/NOETL_PORT; then the current context, the default.
  const hostPort = (): string => `http://${connectHost(host)}:${port}`;
  let explicitServer: CliConfig['explicitServer'];
  const flagUrl = fromFlags.string('NOETL_SERVER_URL');
  const envUrl = fromEnv.string('NOETL_SERVER_URL');
  if (flagUrl !== undefined)
    explicitServer = { url: checkUrl(flagUrl, '--server-url'), from: '--server-url' };
  else if (fromFlags.has('NOETL_HOST') || fromFlags.has('NOETL_PORT'))
    explicitServer = { url: hostPort(), from: '--host/--port' };
  else if (flags.context !== undefined) explicitServer = undefined;
  else if (envUrl !== undefined)
    explicitServer = { url: checkUrl(envUrl, 'NOETL_SERVER_URL'), from: 'NOETL_SERVER_URL' };
  else if (fromEnv.has('NOETL_HOST') || fromEnv.has('NOETL_PORT'))
    explicitServer = { url: hostPort(), from: 'NOETL_HOST/NOETL_PORT' };
  const apiToken = fromEnv.string('NOETL_API_TOKEN');
  return {
    env,
    read: fromEnv,
    home: fromEnv.path('NOETL_HOME', '~/.noetl'),
    ...(apiToken !== undefined ? { apiToken } : {}),
    ...(flags.context !== undefined ? { context: flags.context } : {}),
    ...(explicitServer !== undefined ? { explicitServer } : {}),
    bind: { host, port },
  };
}
