/**
 * Every environment variable the server and the worker read (contract section 8), with what it
 * does and its default. `--help`, docs/configuration.md and the loaders all use this one table;
 * a test checks that the loaders read no variable missing here and that the docs list them all.
 */

/** Which process reads a variable. */
export type EnvVarScope = 'server' | 'worker' | 'both';

export interface EnvVarSpec {
  readonly name: string;
  readonly scope: EnvVarScope;
  readonly description: string;
  /** Default as shown to users; undefined when unset means "off" or "not used". */
  readonly default?: string;
  /** Holds a secret: never printed with its value. */
  readonly secret?: boolean;
}

const TABLE = [
  // HTTP server
  {
    name: 'NOETL_HOST',
    scope: 'server',
    description:
      'address the server binds to; any address but loopback needs an API token (NOETL_API_TOKEN, else one generated into $NOETL_HOME/api-token) unless NOETL_INSECURE is set',
    default: '127.0.0.1',
  },
  { name: 'NOETL_PORT', scope: 'server', description: 'port the server listens on', default: '8082' },
  {
    name: 'NOETL_SERVER_NAME',
    scope: 'server',
    description: 'name the server reports in /api/status and registers as its runtime',
    default: 'noetl-control-plane',
  },
  {
    name: 'NOETL_PUBLIC_SERVER_URL',
    scope: 'server',
    description: 'URL workers use to reach this server (put into command notifications)',
    default: 'http://<NOETL_HOST, or localhost for 0.0.0.0>:<NOETL_PORT>',
  },
  {
    name: 'NOETL_INSECURE',
    scope: 'server',
    description:
      'true = listen on a non-loopback NOETL_HOST without an API token (anyone who can reach the port can run code); logged as a warning. Same as `--insecure`',
    default: 'false',
  },
  {
    name: 'NOETL_ALLOWED_HOSTS',
    scope: 'server',
    description:
      'comma-separated host names accepted in the Host header besides localhost, 127.0.0.1 and [::1] (and the host of NOETL_PUBLIC_SERVER_URL); other Host headers get 403 (DNS rebinding). On a non-loopback address Host is checked only when this is set',
  },
  {
    name: 'NOETL_CORS_ORIGINS',
    scope: 'server',
    description:
      "comma-separated origins (`https://ui.example:8443`) allowed to call the API from a browser; unset = no CORS, and requests carrying another site's Origin get 403",
  },
  {
    name: 'NOETL_BODY_LIMIT_BYTES',
    scope: 'server',
    description: 'largest request body accepted; larger ones get 413',
    default: '10485760',
  },
  {
    name: 'NOETL_HOME',
    scope: 'both',
    description: 'home of noetl: embedded database (data/), generated encryption key, PID files',
    default: '~/.noetl',
  },
  // database
  {
    name: 'NOETL_DATABASE_URL',
    scope: 'server',
    description:
      'PostgreSQL connection URL; when neither this nor POSTGRES_* is set, an embedded PGlite database under $NOETL_HOME/data is used',
    secret: true,
  },
  {
    name: 'POSTGRES_HOST',
    scope: 'server',
    description: 'PostgreSQL host (setting any POSTGRES_* selects PostgreSQL)',
    default: 'localhost',
  },
  { name: 'POSTGRES_PORT', scope: 'server', description: 'PostgreSQL port', default: '5432' },
  { name: 'POSTGRES_USER', scope: 'server', description: 'PostgreSQL user', default: 'noetl' },
  { name: 'POSTGRES_PASSWORD', scope: 'server', description: 'PostgreSQL password', secret: true },
  { name: 'POSTGRES_DATABASE', scope: 'server', description: 'PostgreSQL database', default: 'noetl' },
  {
    name: 'POSTGRES_MAX_CONNECTIONS',
    scope: 'server',
    description: 'size of the PostgreSQL connection pool',
    default: '10',
  },
  {
    name: 'NOETL_SCHEMA',
    scope: 'server',
    description: 'database schema of the noetl tables',
    default: 'noetl',
  },
  // bus
  {
    name: 'NATS_URL',
    scope: 'both',
    description:
      'NATS server(s), comma-separated; set = commands travel over JetStream, unset = in-process bus (server)',
    secret: true,
  },
  { name: 'NATS_USER', scope: 'both', description: 'NATS user (also accepted inside NATS_URL)' },
  { name: 'NATS_PASSWORD', scope: 'both', description: 'NATS password', secret: true },
  { name: 'NATS_TOKEN', scope: 'both', description: 'NATS token', secret: true },
  {
    name: 'NATS_STREAM',
    scope: 'both',
    description: 'JetStream stream of command notifications',
    default: 'noetl_commands',
  },
  {
    name: 'NATS_SUBJECT',
    scope: 'both',
    description: 'subject prefix of command notifications (`<subject>.<pool>.<execution_id>`)',
    default: 'noetl.commands',
  },
  {
    name: 'NATS_CONSUMER',
    scope: 'both',
    description: 'durable consumer name of the workers',
    default: 'worker-pool',
  },
  {
    name: 'NOETL_WORKER_NATS_ACK_WAIT_SECONDS',
    scope: 'both',
    description: 'redelivery of a notification after this long without ack',
    default: '60',
  },
  {
    name: 'NOETL_WORKER_NATS_FETCH_TIMEOUT_SECONDS',
    scope: 'both',
    description: 'how long one JetStream pull waits',
    default: '30',
  },
  {
    name: 'NOETL_WORKER_NATS_FETCH_HEARTBEAT_SECONDS',
    scope: 'both',
    description: 'idle heartbeat of JetStream pulls',
    default: '5',
  },
  {
    name: 'NOETL_WORKER_NATS_MAX_ACK_PENDING',
    scope: 'both',
    description: 'unacknowledged notifications per consumer',
    default: '64',
  },
  {
    name: 'NOETL_WORKER_NATS_MAX_DELIVER',
    scope: 'both',
    description: 'deliveries of one notification before JetStream gives up',
    default: '1000',
  },
  // security
  {
    name: 'NOETL_ENCRYPTION_KEY',
    scope: 'server',
    description:
      'base64 of 32 bytes: key that wraps the per-record keys of credentials (AES-256-GCM). Required with PostgreSQL; with the embedded database one is generated once into $NOETL_HOME/encryption.key',
    secret: true,
  },
  {
    name: 'NOETL_ALLOW_INSECURE_DEFAULT_KEY',
    scope: 'server',
    description:
      'true = start without NOETL_ENCRYPTION_KEY on PostgreSQL using a random key that dies with the process (secrets stored meanwhile become unreadable): for throwaway setups only',
    default: 'false',
  },
  {
    name: 'NOETL_API_TOKEN',
    scope: 'both',
    description:
      "when set, every API route except /health, /api/health and the web UI's static files requires `Authorization: Bearer <token>`; workers and the CLI send it. Unset on a non-loopback NOETL_HOST: generated into $NOETL_HOME/api-token (mode 0600), which the CLI reads for local servers",
    secret: true,
  },
  {
    name: 'NOETL_INTERNAL_API_TOKEN',
    scope: 'server',
    description:
      'bearer token of internal routes (catalog delete/restore; /api/postgres/execute on a non-loopback server); unset = those routes answer 503',
    secret: true,
  },
  {
    name: 'NOETL_SQL_STATEMENT_TIMEOUT_SECONDS',
    scope: 'server',
    description: 'longest a statement of POST /api/postgres/execute may run before it is cancelled (400)',
    default: '30',
  },
  // ids, observability
  {
    name: 'NOETL_SERVER_MACHINE_ID',
    scope: 'server',
    description: 'machine id (0-1023) inside snowflake ids; give each server replica its own',
    default: '0',
  },
  {
    name: 'NOETL_DISABLE_METRICS',
    scope: 'server',
    description: 'true = no /metrics endpoint',
    default: 'false',
  },
  {
    name: 'NOETL_DEBUG',
    scope: 'both',
    description: 'true = log level debug (unless NOETL_LOG_LEVEL is set)',
    default: 'false',
  },
  {
    name: 'NOETL_LOG_LEVEL',
    scope: 'both',
    description: 'log level: trace, debug, info, warn, error, fatal or silent',
    default: 'info',
  },
  {
    name: 'NOETL_CHECK_RESPONSES',
    scope: 'server',
    description:
      'development check (the test suite sets it): 1 compares every answer serialised by its declared response schema with the plain JSON of the value, and answers 500 RESPONSE_SCHEMA_MISMATCH when a field was dropped or converted',
  },
  {
    name: 'NOETL_LOG_FORMAT',
    scope: 'both',
    description:
      'log lines: json (one JSON object a line), pretty (readable text) or auto (json unless stdout is a terminal). Lines about an execution carry execution_id, step and command_id',
    default: 'auto',
  },
  {
    name: 'NOETL_MAX_STEPS_PER_EXECUTION',
    scope: 'server',
    description:
      'steps an execution may enter (re-entries included, loop iterations not) before it fails with STEP_BUDGET_EXCEEDED: ends a cycle without an exit',
    default: '100000',
  },
  {
    name: 'NOETL_PLAYBOOK_MAX_BYTES',
    scope: 'server',
    description:
      'largest playbook, in bytes of YAML: a bigger one is refused with PLAYBOOK_TOO_LARGE before it is parsed (registration answers 422). Also read by `noetl run` and `noetl validate`',
    default: '16777216',
  },
  {
    name: 'NOETL_PLAYBOOK_MAX_STEPS',
    scope: 'server',
    description:
      "most steps in a playbook's `workflow`; more is refused with PLAYBOOK_TOO_LARGE before the playbook is built. Also read by `noetl run` and `noetl validate`",
    default: '50000',
  },
  {
    name: 'NOETL_PLAYBOOK_MAX_DEPTH',
    scope: 'server',
    description:
      'deepest nesting of maps and lists in a playbook (its root map is level 1); deeper is refused with PLAYBOOK_TOO_LARGE before the playbook is built. Also read by `noetl run` and `noetl validate`',
    default: '64',
  },
  {
    name: 'NOETL_STRICT',
    scope: 'server',
    description:
      '1: every playbook warning (an unknown key, an unreachable step...) is an error, so a registration with warnings is refused with 422 PLAYBOOK_INVALID. Also read by `noetl run`, `noetl validate` and `noetl register` (which then sends `strict`), like `--strict`',
    default: '0',
  },
  // embedded workers and runtime registry
  {
    name: 'NOETL_EMBEDDED_WORKERS',
    scope: 'server',
    description: 'workers the server runs in-process (with the in-process bus); 0 = none',
    default: '4',
  },
  {
    name: 'NOETL_RUNTIME_SWEEP_INTERVAL',
    scope: 'server',
    description: 'seconds between sweeps that mark silent worker pools offline',
    default: '30',
  },
  {
    name: 'NOETL_RUNTIME_OFFLINE_SECONDS',
    scope: 'server',
    description: 'a worker pool without heartbeat for this long is marked offline',
    default: '60',
  },
  // worker
  {
    name: 'WORKER_ID',
    scope: 'worker',
    description: 'id of this worker in claims and events',
    default: '<hostname>-<pid>-<random>',
  },
  {
    name: 'WORKER_POOL_NAME',
    scope: 'worker',
    description: 'pool this worker serves and registers as',
    default: 'default',
  },
  {
    name: 'NOETL_SERVER_URL',
    scope: 'worker',
    description: 'URL of the noetl server the worker talks to',
    default: 'http://localhost:8082',
  },
  {
    name: 'WORKER_HEARTBEAT_INTERVAL',
    scope: 'worker',
    description: 'seconds between heartbeats of the worker pool',
    default: '15',
  },
  {
    name: 'WORKER_MAX_CONCURRENT',
    scope: 'worker',
    description: 'commands one worker runs at once',
    default: '4',
  },
  {
    name: 'NOETL_STEP_OUTPUT_MAX_BYTES',
    scope: 'both',
    description:
      'stdout and stderr kept per step of python and shell tools: past it the oldest lines are cut and the cut is said (`truncated`). Also read by `noetl run`',
    default: '65536',
  },
  {
    name: 'NOETL_PYTHON_POOL',
    scope: 'both',
    description:
      'warm python interpreters kept per worker (and by the server for its embedded workers, and by `noetl run`): a python step runs in one of them, reset between steps, instead of starting python. 0 = a new python process per step. Unset = one per slot (WORKER_MAX_CONCURRENT, NOETL_EMBEDDED_WORKERS, or 16 in `noetl run`)',
    default: '<slots>',
  },
  {
    name: 'NOETL_PYTHON_POOL_MAX_RUNS',
    scope: 'both',
    description: 'steps a warm python interpreter runs before it is replaced by a fresh one',
    default: '100',
  },
  {
    name: 'NOETL_PYTHON_POOL_MAX_RSS_MB',
    scope: 'both',
    description: 'resident memory (MiB) past which a warm python interpreter is replaced after its step',
    default: '512',
  },
  {
    name: 'NOETL_POSTGRES_STATEMENT_RESULTS',
    scope: 'both',
    description:
      "1: the postgres tool's data also holds NoETL's older `command_<i>` entry per statement (before March 2026), for playbooks that read `<step>.command_0`; it doubles what a step stores (docs/tools.md, postgres). Read by workers, the server's embedded workers and `noetl run`",
    default: '0',
  },
  {
    name: 'WORKER_GRACE_SECONDS',
    scope: 'worker',
    description: 'on SIGTERM, how long in-flight commands may finish before they are handed back',
    default: '30',
  },
  {
    name: 'WORKER_METRICS_BIND',
    scope: 'worker',
    description:
      'host:port of the worker metrics endpoint (`/metrics`, `/health`). Unset: loopback, port 9090 or a free one when 9090 is taken; an address that cannot be had is a warning, never a stop',
    default: '127.0.0.1:9090',
  },
  { name: 'PORT', scope: 'worker', description: 'metrics port when WORKER_METRICS_BIND is unset' },
  // OpenTelemetry traces (docs/observability.md): off unless an endpoint is set
  {
    name: 'OTEL_EXPORTER_OTLP_ENDPOINT',
    scope: 'both',
    description:
      'OTLP/HTTP collector base URL (`http://collector:4318`): traces go to `<url>/v1/traces`. Setting it (or the next) turns traces on: a trace per execution, spans for the execution, each step and each tool call',
  },
  {
    name: 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
    scope: 'both',
    description: 'full OTLP/HTTP traces URL, used as given; wins over OTEL_EXPORTER_OTLP_ENDPOINT',
  },
  {
    name: 'OTEL_EXPORTER_OTLP_HEADERS',
    scope: 'both',
    description: 'headers sent with each export, `key=value` pairs separated by commas (e.g. an API key)',
    secret: true,
  },
  {
    name: 'OTEL_SERVICE_NAME',
    scope: 'both',
    description: 'service.name of the spans',
    default: 'noetl-server / noetl-worker',
  },
  {
    name: 'OTEL_SDK_DISABLED',
    scope: 'both',
    description: 'true = no traces even when an endpoint is set',
    default: 'false',
  },
] as const satisfies readonly EnvVarSpec[];

export type EnvVarName = (typeof TABLE)[number]['name'];

/** Every variable, in documentation order. */
export const ENV_VARS: readonly (EnvVarSpec & { readonly name: EnvVarName })[] = TABLE;

const BY_NAME: ReadonlyMap<string, EnvVarSpec> = new Map(ENV_VARS.map((v) => [v.name, v]));

export function envVarSpec(name: EnvVarName): EnvVarSpec {
  const spec = BY_NAME.get(name);
  if (!spec) throw new Error(`unknown env var ${name}`);
  return spec;
}

/** The table as text for `--help`: one variable a line, with its default. */
export function envVarsHelp(scope: 'server' | 'worker'): string {
  const rows = ENV_VARS.filter((v) => v.scope === scope || v.scope === 'both');
  const width = Math.max(...rows.map((v) => v.name.length));
  return rows
    .map((v) => {
      const dflt = v.default === undefined ? '' : ` (default ${v.default})`;
      return `  ${v.name.padEnd(width)}  ${v.description}${dflt}`;
    })
    .join('\n');
}
