import { join } from 'node:path';
import { ConfigError, type PlaybookLimits, type TracingSettings } from '../shared/index.js';
import { readNatsSettings, type NatsSettings } from './nats-settings.js';
import { readPlaybookLimits } from './playbook-limits.js';
import { ConfigReader, type ConfigSources } from './sources.js';
import { readPythonPool, type PythonPoolSettings } from './python-pool.js';
import { readStepOutputMaxBytes } from './step-output.js';
import { readTracing } from './tracing.js';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** PostgreSQL: from `NOETL_DATABASE_URL` or the `POSTGRES_*` parts (the URL wins). */
export interface PostgresDatabase {
  readonly kind: 'postgres';
  readonly url?: string;
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password?: string;
  readonly database: string;
  readonly poolSize: number;
}

/** Embedded PGlite under `$NOETL_HOME/data` (nothing configured). */
export interface PgliteDatabase {
  readonly kind: 'pglite';
  readonly dataDir: string;
}

export type DatabaseConfig = PostgresDatabase | PgliteDatabase;

export interface ServerConfig {
  readonly host: string;
  readonly port: number;
  readonly serverName: string;
  /** `NOETL_HOME`, absolute. */
  readonly home: string;
  readonly database: DatabaseConfig;
  readonly schema: string;
  /** Undefined: the in-process bus. */
  readonly nats?: NatsSettings;
  /** `NOETL_ENCRYPTION_KEY` as given (base64 of 32 bytes, checked); see resolveEncryptionKey. */
  readonly encryptionKey?: string;
  readonly allowInsecureDefaultKey: boolean;
  readonly apiToken?: string;
  readonly internalApiToken?: string;
  /** `NOETL_INSECURE` / `--insecure`: a non-loopback host without a token, on purpose. */
  readonly insecure: boolean;
  /** `NOETL_ALLOWED_HOSTS`: Host header names accepted besides the loopback ones (lower case). */
  readonly allowedHosts: readonly string[];
  /** `NOETL_CORS_ORIGINS`: origins answered with CORS headers (`scheme://host[:port]`). */
  readonly corsOrigins: readonly string[];
  /** `NOETL_SQL_STATEMENT_TIMEOUT_SECONDS` of `/api/postgres/execute`, in ms. */
  readonly sqlStatementTimeoutMs: number;
  readonly publicServerUrl: string;
  readonly machineId: number;
  readonly metricsEnabled: boolean;
  readonly debug: boolean;
  readonly logLevel: LogLevel;
  /** `NOETL_LOG_FORMAT`: `auto` (JSON lines unless stdout is a terminal), `pretty` or `json`. */
  readonly logFormat: 'auto' | 'pretty' | 'json';
  readonly bodyLimitBytes: number;
  /** `NOETL_STEP_OUTPUT_MAX_BYTES`: stdout/stderr kept per step by the in-process workers. */
  readonly stepOutputMaxBytes: number;
  /** `NOETL_PYTHON_POOL*`: warm python interpreters of the embedded workers; false = none. */
  readonly pythonPool: PythonPoolSettings | false;
  /** In-process workers; 0 = none. */
  readonly embeddedWorkers: number;
  /** `NOETL_MAX_STEPS_PER_EXECUTION`: the engine's step budget of each execution. */
  readonly maxStepsPerExecution: number;
  /** `NOETL_PLAYBOOK_MAX_BYTES` / `_MAX_STEPS` / `_MAX_DEPTH`: checked at registration and run. */
  readonly playbookLimits: PlaybookLimits;
  /** `NOETL_STRICT`: playbook warnings are errors (a registration with warnings is refused). */
  readonly playbookStrict: boolean;
  readonly runtimeSweepIntervalSeconds: number;
  readonly runtimeOfflineSeconds: number;
  /** OpenTelemetry traces (`OTEL_EXPORTER_OTLP_*`); undefined: off, the SDK never loaded. */
  readonly tracing?: TracingSettings;
}

const POSTGRES_PARTS = [
  'POSTGRES_HOST',
  'POSTGRES_PORT',
  'POSTGRES_USER',
  'POSTGRES_PASSWORD',
  'POSTGRES_DATABASE',
] as const;

const SCHEMA_RE = /^[a-z_][a-z0-9_]{0,62}$/;

/** Checks a base64 key of exactly 32 bytes; returns it unchanged. */
export function checkEncryptionKey(value: string, variable = 'NOETL_ENCRYPTION_KEY'): string {
  const compact = value.replace(/\s+/g, '');
  const ok =
    /^[A-Za-z0-9+/]+={0,2}$/.test(compact) &&
    compact.length % 4 === 0 &&
    Buffer.from(compact, 'base64').length === 32;
  if (!ok) {
    throw new ConfigError(
      `${variable} must be the base64 of 32 random bytes (e.g. \`openssl rand -base64 32\`)`,
      { details: { variable } },
    );
  }
  return compact;
}

function readDatabase(read: ConfigReader, home: string): DatabaseConfig {
  const url = read.url('NOETL_DATABASE_URL', ['postgres:', 'postgresql:']);
  const partsSet = POSTGRES_PARTS.some((name) => read.has(name));
  if (url === undefined && !partsSet) return { kind: 'pglite', dataDir: join(home, 'data') };
  const password = read.string('POSTGRES_PASSWORD');
  return {
    kind: 'postgres',
    ...(url === undefined ? {} : { url }),
    host: read.stringOr('POSTGRES_HOST', 'localhost'),
    port: read.int('POSTGRES_PORT', 5432, { min: 1, max: 65535 }),
    user: read.stringOr('POSTGRES_USER', 'noetl'),
    ...(password === undefined ? {} : { password }),
    database: read.stringOr('POSTGRES_DATABASE', 'noetl'),
    poolSize: read.int('POSTGRES_MAX_CONNECTIONS', 10, { min: 1, max: 1000 }),
  };
}

/** True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost). */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

function list(read: ConfigReader, name: 'NOETL_ALLOWED_HOSTS' | 'NOETL_CORS_ORIGINS'): string[] {
  const raw = read.string(name);
  if (raw === undefined) return [];
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function readCorsOrigins(read: ConfigReader): string[] {
  return list(read, 'NOETL_CORS_ORIGINS').map((origin) => {
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      return read.fail(
        'NOETL_CORS_ORIGINS',
        `holds '${origin}', which is not an origin like https://ui.example`,
      );
    }
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.pathname !== '/' || url.search !== '')
      read.fail('NOETL_CORS_ORIGINS', `holds '${origin}', which is not an origin like https://ui.example`);
    return url.origin;
  });
}

function readAllowedHosts(read: ConfigReader): string[] {
  return list(read, 'NOETL_ALLOWED_HOSTS').map((h) => {
    const host = h.toLowerCase();
    if (!/^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)$/.test(host))
      read.fail('NOETL_ALLOWED_HOSTS', `holds '${h}', which is not a host name (no port, no scheme)`);
    return host;
  });
}

function defaultPublicUrl(host: string, port: number): string {
  const shown = host === '0.0.0.0' || host === '::' || host === '' ? 'localhost' : host;
  return `http://${shown.includes(':') ? `[${shown}]` : shown}:${port}`;
}

/**
 * The server's configuration from flags, environment and an optional file (in that order of
 * precedence), validated: a bad value is a ConfigError naming the variable.
 */
export function loadServerConfig(sources: ConfigSources): ServerConfig {
  const read = new ConfigReader(sources);
  const home = read.path('NOETL_HOME', '~/.noetl');
  const host = read.stringOr('NOETL_HOST', '127.0.0.1');
  const port = read.int('NOETL_PORT', 8082, { min: 0, max: 65535 });
  const schema = read.stringOr('NOETL_SCHEMA', 'noetl');
  if (!SCHEMA_RE.test(schema)) read.fail('NOETL_SCHEMA', 'must be a lower-case SQL identifier');
  const debug = read.bool('NOETL_DEBUG', false);
  const rawKey = read.string('NOETL_ENCRYPTION_KEY');
  const encryptionKey = rawKey === undefined ? undefined : checkEncryptionKey(rawKey);
  const nats = readNatsSettings(read);
  const apiToken = read.string('NOETL_API_TOKEN');
  const internalApiToken = read.string('NOETL_INTERNAL_API_TOKEN');
  const tracing = readTracing(read, 'noetl-server');
  return {
    host,
    port,
    serverName: read.stringOr('NOETL_SERVER_NAME', 'noetl-control-plane'),
    home,
    database: readDatabase(read, home),
    schema,
    ...(nats === undefined ? {} : { nats }),
    ...(encryptionKey === undefined ? {} : { encryptionKey }),
    allowInsecureDefaultKey: read.bool('NOETL_ALLOW_INSECURE_DEFAULT_KEY', false),
    ...(apiToken === undefined ? {} : { apiToken }),
    ...(internalApiToken === undefined ? {} : { internalApiToken }),
    insecure: read.bool('NOETL_INSECURE', false),
    allowedHosts: readAllowedHosts(read),
    corsOrigins: readCorsOrigins(read),
    sqlStatementTimeoutMs: Math.round(read.seconds('NOETL_SQL_STATEMENT_TIMEOUT_SECONDS', 30) * 1000),
    publicServerUrl: (
      read.url('NOETL_PUBLIC_SERVER_URL', ['http:', 'https:']) ?? defaultPublicUrl(host, port)
    ).replace(/\/+$/, ''),
    machineId: read.int('NOETL_SERVER_MACHINE_ID', 0, { min: 0, max: 1023 }),
    metricsEnabled: !read.bool('NOETL_DISABLE_METRICS', false),
    debug,
    logLevel: read.oneOf('NOETL_LOG_LEVEL', LOG_LEVELS, debug ? 'debug' : 'info'),
    logFormat: read.oneOf('NOETL_LOG_FORMAT', ['auto', 'pretty', 'json'] as const, 'auto'),
    bodyLimitBytes: read.int('NOETL_BODY_LIMIT_BYTES', 10 * 1024 * 1024, { min: 1024 }),
    stepOutputMaxBytes: readStepOutputMaxBytes(read),
    pythonPool: readPythonPool(read),
    embeddedWorkers: read.int('NOETL_EMBEDDED_WORKERS', 4, { min: 0, max: 256 }),
    maxStepsPerExecution: read.int('NOETL_MAX_STEPS_PER_EXECUTION', 100_000, { min: 1 }),
    playbookLimits: readPlaybookLimits(read),
    playbookStrict: read.bool('NOETL_STRICT', false),
    runtimeSweepIntervalSeconds: read.seconds('NOETL_RUNTIME_SWEEP_INTERVAL', 30),
    runtimeOfflineSeconds: read.seconds('NOETL_RUNTIME_OFFLINE_SECONDS', 60),
    ...(tracing === undefined ? {} : { tracing }),
  };
}

/** The configuration with secrets replaced by `***`, for logs and `/api/status`. */
export function describeServerConfig(config: ServerConfig): Record<string, unknown> {
  const mask = (v: string | undefined): string | undefined => (v === undefined ? undefined : '***');
  const db = config.database;
  return {
    ...config,
    encryptionKey: mask(config.encryptionKey),
    apiToken: mask(config.apiToken),
    internalApiToken: mask(config.internalApiToken),
    database:
      db.kind === 'postgres'
        ? { ...db, url: db.url?.replace(/\/\/([^:/@]+):[^@/]*@/, '//$1:***@'), password: mask(db.password) }
        : db,
    nats:
      config.nats === undefined
        ? undefined
        : {
            ...config.nats,
            url: config.nats.url.replace(/\/\/[^@/]+@/g, '//***@'),
            password: mask(config.nats.password),
            token: mask(config.nats.token),
          },
  };
}
