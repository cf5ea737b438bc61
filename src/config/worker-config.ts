import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { readNatsSettings, type NatsSettings } from './nats-settings.js';
import { LOG_LEVELS, type LogLevel } from './server-config.js';
import { ConfigReader, type ConfigSources } from './sources.js';
import { readPythonPool, type PythonPoolSettings } from './python-pool.js';
import type { TracingSettings } from '../shared/index.js';
import { readStepOutputMaxBytes } from './step-output.js';
import { readTracing } from './tracing.js';

export interface BindAddress {
  readonly host: string;
  readonly port: number;
}

export interface WorkerConfig {
  readonly workerId: string;
  readonly poolName: string;
  /** Without a trailing slash. */
  readonly serverUrl: string;
  readonly heartbeatIntervalSeconds: number;
  readonly maxConcurrent: number;
  /** `WORKER_GRACE_SECONDS`: drain time on SIGTERM. */
  readonly graceSeconds: number;
  /** `NOETL_STEP_OUTPUT_MAX_BYTES`: stdout/stderr kept per step. */
  readonly stepOutputMaxBytes: number;
  /** `NOETL_PYTHON_POOL*`: warm python interpreters of this worker; false = none. */
  readonly pythonPool: PythonPoolSettings | false;
  readonly metricsBind: BindAddress;
  /** Undefined: no NATS (the worker runs in-process or is told its bus otherwise). */
  readonly nats?: NatsSettings;
  readonly apiToken?: string;
  readonly home: string;
  readonly debug: boolean;
  readonly logLevel: LogLevel;
  /** `NOETL_LOG_FORMAT`: `auto` (JSON lines unless stdout is a terminal), `pretty` or `json`. */
  readonly logFormat: 'auto' | 'pretty' | 'json';
  /** OpenTelemetry traces (`OTEL_EXPORTER_OTLP_*`); undefined: off, the SDK never loaded. */
  readonly tracing?: TracingSettings;
}

const POOL_RE = /^[A-Za-z0-9_-]+$/;

function readBind(read: ConfigReader): BindAddress {
  const raw = read.string('WORKER_METRICS_BIND');
  if (raw === undefined) {
    // Loopback unless asked: metrics and health are not for the network by default.
    return { host: '127.0.0.1', port: read.int('PORT', 9090, { min: 0, max: 65535 }) };
  }
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(raw) ?? /^()()(\d+)$/.exec(raw);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535)
    read.fail('WORKER_METRICS_BIND', `must be host:port (e.g. 0.0.0.0:9090), got '${raw}'`);
  const host = m[1] ?? m[2] ?? '';
  return { host: host === '' ? '0.0.0.0' : host, port };
}

/** The worker process's configuration (contract section 8), flags > env > file > defaults. */
export function loadWorkerConfig(sources: ConfigSources): WorkerConfig {
  const read = new ConfigReader(sources);
  const poolName = read.stringOr('WORKER_POOL_NAME', 'default');
  if (!POOL_RE.test(poolName)) read.fail('WORKER_POOL_NAME', 'may hold only A-Z a-z 0-9 _ -');
  const serverUrl = (read.url('NOETL_SERVER_URL', ['http:', 'https:']) ?? 'http://localhost:8082').replace(
    /\/+$/,
    '',
  );
  const debug = read.bool('NOETL_DEBUG', false);
  const nats = readNatsSettings(read);
  const apiToken = read.string('NOETL_API_TOKEN');
  const tracing = readTracing(read, 'noetl-worker');
  return {
    workerId: read.string('WORKER_ID') ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`,
    poolName,
    serverUrl,
    heartbeatIntervalSeconds: read.seconds('WORKER_HEARTBEAT_INTERVAL', 15),
    maxConcurrent: read.int('WORKER_MAX_CONCURRENT', 4, { min: 1, max: 1024 }),
    graceSeconds: read.int('WORKER_GRACE_SECONDS', 30, { min: 0, max: 86_400 }),
    stepOutputMaxBytes: readStepOutputMaxBytes(read),
    pythonPool: readPythonPool(read),
    metricsBind: readBind(read),
    ...(nats === undefined ? {} : { nats }),
    ...(apiToken === undefined ? {} : { apiToken }),
    home: read.path('NOETL_HOME', '~/.noetl'),
    debug,
    logLevel: read.oneOf('NOETL_LOG_LEVEL', LOG_LEVELS, debug ? 'debug' : 'info'),
    logFormat: read.oneOf('NOETL_LOG_FORMAT', ['auto', 'pretty', 'json'] as const, 'auto'),
    ...(tracing === undefined ? {} : { tracing }),
  };
}
