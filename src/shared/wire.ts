/**
 * The wire model: every shape the public HTTP API sends, declared once (docs/architecture.md,
 * "One model"). The server's routes declare these as their response schemas (so the OpenAPI
 * document shows them and fastify serialises with them), the server's view functions return
 * their types, and the clients (CLI, TUI, web UI) read the same types. Field names are the
 * contract's snake_case; the engine and the store keep their own camelCase records, converted
 * only at the HTTP edge (src/server/orchestrator/views.ts) and the SQL edge (src/store).
 */
import {
  array,
  bool,
  extend,
  int,
  json,
  jsonObject,
  nullable,
  num,
  object,
  oneOf,
  record,
  str,
  type Static,
} from './wire-schema.js';

export type { Schema, Static } from './wire-schema.js';

const id = (description?: string) => str(description === undefined ? {} : { description });

/** RUNNING, COMPLETED, FAILED, CANCELLED (contract: executions.status). */
export const ExecutionStatus = str<'RUNNING' | 'COMPLETED' | 'FAILED' | 'CANCELLED' | (string & {})>({
  description: 'RUNNING, COMPLETED, FAILED or CANCELLED',
});
export type ExecutionStatus = Static<typeof ExecutionStatus>;

/** One row of `GET /api/executions`. */
export const ExecutionSummary = object(
  {
    execution_id: id(),
    catalog_id: nullable(str()),
    path: nullable(str()),
    status: ExecutionStatus,
    started_at: nullable(str()),
    completed_at: nullable(str()),
    parent_execution_id: nullable(str()),
    event_count: int(),
    error: nullable(str()),
  },
  { optional: ['event_count'] },
);
export type ExecutionSummary = Static<typeof ExecutionSummary>;

export const ExecutionList = array(ExecutionSummary);

/** An event as the read routes show it (secret-looking keys masked for display). */
export const EventView = object(
  {
    event_id: id(),
    execution_id: id(),
    event_type: str(),
    node_name: nullable(str()),
    node_type: nullable(str()),
    status: nullable(str()),
    created_at: str(),
    parent_event_id: nullable(str()),
    context: json(),
    result: json(),
    meta: nullable(jsonObject()),
    error: nullable(str()),
    worker_id: nullable(str()),
  },
  { optional: ['execution_id', 'node_type', 'parent_event_id', 'worker_id'] },
);
export type EventView = Static<typeof EventView>;

/** `GET /api/executions/{id}/events`. */
export const EventsPage = object({
  execution_id: id(),
  status: ExecutionStatus,
  events: array(EventView),
});
export type EventsPage = Static<typeof EventsPage>;

/** The short event of `GET /api/executions/{id}`. */
export const EventBrief = object({
  event_id: id(),
  event_type: str(),
  node_name: nullable(str()),
  status: nullable(str()),
  created_at: str(),
  result: json(),
  error: nullable(str()),
});

/** `GET /api/executions/{id}`: the execution with its workload and a page of its events. */
export const ExecutionDetail = extend(ExecutionSummary, {
  workload: nullable(jsonObject()),
  events: array(EventBrief),
  pagination: object({ page: int(), page_size: int(), total: int() }),
});
export type ExecutionDetail = Static<typeof ExecutionDetail>;

/** `GET /api/executions/{id}/status`: the Rust shape and the Python shape NoETL's CLIs read. */
export const StatusView = object({
  execution_id: id(),
  status: ExecutionStatus,
  current_step: nullable(str()),
  progress: object({
    total_steps: int(),
    completed_steps: int(),
    running_steps: int(),
    failed_steps: int(),
  }),
  is_cancelled: bool(),
  completed_steps: array(str()),
  failed_steps: array(str()),
  failed: bool(),
  completed: bool(),
  completion_inferred: bool(),
  error: nullable(str()),
  start_time: nullable(str()),
  end_time: nullable(str()),
  started_at: nullable(str()),
  completed_at: nullable(str()),
  duration_seconds: num(),
  duration_human: str(),
  path: nullable(str()),
  catalog_id: nullable(str()),
  parent_execution_id: nullable(str()),
});
export type StatusView = Static<typeof StatusView>;

/** The web UI's status words for a step. */
export const StepUiStatus = oneOf(['pending', 'running', 'completed', 'failed', 'skipped', 'cancelled']);

/** A step as the engine folded it, for the execution page. */
export const StepSummary = object({
  name: str(),
  status: StepUiStatus,
  entered_at: nullable(str()),
  completed_at: nullable(str()),
  runs: int({ description: 'times the step was entered' }),
  attempts: int({ description: 'most attempts of one command of the step' }),
  loop: nullable(object({ expected: int(), done: int() })),
  error: nullable(str()),
});
export type StepSummary = Static<typeof StepSummary>;

export const GraphStep = object(
  {
    name: str(),
    kind: str({ description: 'tool kind; `pipeline` for a list of tools, `router` without a tool' }),
    desc: str(),
    loop: object({ mode: str(), max_in_flight: json(), over: json() }, { optional: ['max_in_flight'] }),
    fan_in: bool(),
  },
  { optional: ['desc', 'loop', 'fan_in'] },
);
export type GraphStep = Static<typeof GraphStep>;

export const GraphArc = object({ from: str(), to: str(), when: str() }, { optional: ['when'] });
export type GraphArc = Static<typeof GraphArc>;

export const PlaybookGraph = object({ entry: str(), steps: array(GraphStep), arcs: array(GraphArc) });
export type PlaybookGraph = Static<typeof PlaybookGraph>;

/** `GET /api/executions/{id}/summary`: the execution page in one request. */
export const ExecutionPage = object({
  execution_id: id(),
  path: nullable(str()),
  catalog_id: nullable(str()),
  version: nullable(str()),
  status: ExecutionStatus,
  error: nullable(str()),
  started_at: nullable(str()),
  completed_at: nullable(str()),
  parent_execution_id: nullable(str()),
  workload: nullable(jsonObject()),
  event_count: int(),
  last_event_id: str({ description: 'where the execution stream resumes (Last-Event-ID)' }),
  steps: array(StepSummary),
  graph: PlaybookGraph,
});
export type ExecutionPage = Static<typeof ExecutionPage>;

/** `GET /api/executions/{id}/result`; `noetl run --json` gives the same `step_results`. */
export const ExecutionResult = object({
  execution_id: id(),
  status: ExecutionStatus,
  path: nullable(str()),
  final_result: json(),
  step_results: record(json()),
  error: nullable(str()),
});
export type ExecutionResult = Static<typeof ExecutionResult>;

/** `POST /api/execute` (and each item of a batch). */
export const ExecuteAnswer = object(
  {
    execution_id: id(),
    status: str({ description: 'started, or duplicate for a repeated idempotency key' }),
    commands_generated: int(),
  },
  { optional: ['commands_generated'] },
);
export type ExecuteAnswer = Static<typeof ExecuteAnswer>;

export const CancelAnswer = object({
  execution_id: id(),
  status: str(),
  message: str(),
  cancelled_executions: array(str()),
});

export const CancellationCheck = object({ execution_id: id(), is_cancelled: bool() });

export const FinalizeAnswer = object({ execution_id: id(), status: str(), message: str() });

export const CleanupAnswer = object(
  { cancelled_count: int(), execution_ids: array(str()), dry_run: bool(), message: str() },
  { optional: ['dry_run'] },
);

/** A validation finding: a stable code, a message and where (line:col, 1-based). */
export const Diagnostic = object(
  {
    code: str(),
    severity: str<'error' | 'warning' | (string & {})>(),
    message: str(),
    path: str(),
    line: nullable(int()),
    column: nullable(int()),
    col: nullable(int({ description: 'column, as the graph route names it' })),
  },
  { optional: ['path', 'line', 'column', 'col'] },
);
export type Diagnostic = Static<typeof Diagnostic>;

/** Every error answer: `{error, status, code}` (docs/errors.md), with details for some codes. */
export const ErrorBody = object(
  { error: str(), status: int(), code: str(), details: json() },
  { optional: ['details'] },
);
export type ErrorBody = Static<typeof ErrorBody>;

/** A registered runtime (worker pool, server, broker): `GET /api/worker/pools`. */
export const WorkerPool = object({
  runtime_id: id(),
  name: str(),
  kind: str(),
  uri: nullable(str()),
  status: str(),
  labels: json(),
  capabilities: json(),
  capacity: nullable(int({ description: 'slots' })),
  runtime: json(),
  heartbeat: nullable(str()),
  created_at: str(),
  updated_at: str(),
});
export type WorkerPool = Static<typeof WorkerPool>;

export const WorkerPoolList = array(WorkerPool);

/** `POST /api/worker/pool/register`: the runtime as saved, and the outcome. */
export const PoolRegistered = extend(WorkerPool, { message: str(), runtime_status: str() });

/** A worker pool on the dashboard: slots, commands held now, last heartbeat. */
export const PoolUsage = object({
  name: str(),
  status: str(),
  slots: nullable(int()),
  active: int(),
  last_heartbeat: nullable(str()),
  offline: bool(),
});
export type PoolUsage = Static<typeof PoolUsage>;

export const LatestFailure = object({
  execution_id: id(),
  path: nullable(str()),
  step: nullable(str()),
  error: nullable(str()),
  at: nullable(str()),
});
export type LatestFailure = Static<typeof LatestFailure>;

/** `GET /api/dashboard/stats`. */
export const DashboardStats = object({
  status: str(),
  catalog: object({ entries: int(), paths: int() }),
  credentials: int(),
  executions: object({
    total: int(),
    running: int(),
    completed: int(),
    failed: int(),
    cancelled: int(),
    last_24h: int(),
  }),
  commands: object({ pending: int(), running: int() }),
  worker_pools: object({ active: int(), total: int(), items: array(PoolUsage) }),
  running: int(),
  failed_24h: int(),
  completed_24h: int(),
  throughput: array(object({ t: str(), count: int() }), {
    description: 'commands completed per minute over the last hour, oldest first',
  }),
  latest_failures: array(LatestFailure),
});
export type DashboardStats = Static<typeof DashboardStats>;

/** `POST /api/catalog/graph`: a playbook's diagnostics and graph. */
export const GraphAnswer = object({
  valid: bool(),
  diagnostics: array(Diagnostic),
  graph: nullable(PlaybookGraph),
});
export type GraphAnswer = Static<typeof GraphAnswer>;

/** A catalog entry (playbook, subscription...), one version of a path. */
export const CatalogEntry = object({
  catalog_id: id(),
  path: str(),
  kind: str(),
  version: int(),
  content: nullable(str({ description: 'the YAML as registered' })),
  layout: json(),
  payload: json({ description: 'the workload' }),
  meta: json(),
  archived: bool(),
  created_at: str(),
});
export type CatalogEntry = Static<typeof CatalogEntry>;

/** `POST /api/catalog/list`. */
export const CatalogList = object({ entries: array(CatalogEntry) });

/** A credential as every read shows it: never its data (that needs `include_data=true`). */
export const CredentialSummary = object({
  id: id(),
  name: str(),
  type: str(),
  meta: json(),
  tags: nullable(array(str())),
  description: nullable(str()),
  schema: json(),
  created_at: str(),
  updated_at: str(),
});
export type CredentialSummary = Static<typeof CredentialSummary>;

/** `GET /api/credentials`. */
export const CredentialList = object({
  items: array(CredentialSummary),
  filter: object({ type: nullable(str()), q: nullable(str()) }),
});

/** `POST /api/catalog/register`. */
export const RegisterAnswer = object(
  {
    status: str(),
    message: str(),
    path: str(),
    version: int(),
    catalog_id: id(),
    kind: str(),
    unchanged: bool({ description: 'the content was that of the latest version, which is returned' }),
    credential: CredentialSummary,
    warnings: array(Diagnostic),
  },
  { optional: ['version', 'catalog_id', 'unchanged', 'credential'] },
);
export type RegisterAnswer = Static<typeof RegisterAnswer>;

/** A plain acknowledgement: `{status, message}` (heartbeats, deregistration...). */
export const Ack = object({ status: str(), message: str() });

/** `GET /health`. */
export const Liveness = object({ status: str() });

/** `GET /api/health` (200 healthy, 503 not: the same body). */
export const HealthReport = object(
  {
    status: oneOf(['ok', 'unhealthy']),
    database: str({ description: 'connected or disconnected' }),
    database_latency_ms: num(),
    database_error: str(),
    bus: object({ kind: str(), status: str() }),
    components: record(jsonObject()),
  },
  { optional: ['database_error', 'components'] },
);

/** `GET /api/status`: the server, its database, bus and memory (plus mode-specific extras). */
export const ServerStatus = object({
  status: str(),
  server: object({
    name: str(),
    version: str(),
    hostname: str(),
    pid: int(),
    node: str(),
    started_at: str(),
    uptime_seconds: int(),
    public_url: str(),
    machine_id: int(),
  }),
  database: object({ kind: str(), schema: str(), pool: object({ total: int(), idle: int() }) }),
  bus: object({ kind: str(), status: str() }),
  embedded_workers: int(),
  auth: object({ api_token: bool() }),
  memory: object({ rss: int(), heap_used: int(), heap_total: int() }),
});

/** `GET /api/pool/status`. */
export const PoolStatus = object({
  status: str(),
  kind: str(),
  schema: str(),
  pool: object({ total: int(), idle: int(), waiting: int(), max: int() }),
});

/** `POST /api/db/init`. */
export const DbInit = object({ status: str(), message: str(), valid: bool(), applied: array(str()) });

/** `GET /api/db/validate`. */
export const DbValidate = object({
  status: str(),
  message: str(),
  valid: bool(),
  tables: array(str()),
  missing: array(str()),
  pending_migrations: array(str()),
});

/** `POST /api/postgres/execute`. */
export const SqlAnswer = object({
  status: str(),
  result: array(jsonObject()),
  row_count: nullable(int()),
  fields: array(str()),
});

/** An execution variable (`/api/vars`). */
export const VarView = object({
  execution_id: id(),
  var_name: str(),
  var_type: str(),
  var_value: json(),
  source_step: nullable(str()),
  created_at: str(),
  accessed_at: str(),
  access_count: int(),
});
export type VarView = Static<typeof VarView>;
export const VarList = array(VarView);
export const VarCount = object({ status: str(), execution_id: id(), count: int() });
export const VarDeleted = object({ execution_id: id(), var_name: str(), status: str() });

/** `GET /api/commands/{event_id}`: a command as stored. */
export const CommandView = object({
  execution_id: id(),
  event_id: id(),
  command_id: str(),
  node_id: str(),
  node_name: str(),
  action: str({ description: 'the tool kind' }),
  status: str(),
  worker_id: nullable(str()),
  context: json(),
  meta: json(),
});

/** `POST /api/commands/{event_id}/claim`: the command a worker now holds (contract 3.6). */
export const ClaimAnswer = object({
  status: str(),
  event_id: id(),
  claim_event_id: id(),
  execution_id: id(),
  command_id: str(),
  node_id: str(),
  node_name: str(),
  action: str(),
  context: json(),
  meta: jsonObject(),
});
export type ClaimAnswer = Static<typeof ClaimAnswer>;

/**
 * `POST /api/events[/batch]`; `claimed` (beyond NoETL): the commands claimed for the posting
 * worker when it asked to `take` them, each with the pool and trace its notification would carry.
 */
export const IngestAnswer = object(
  {
    status: str(),
    event_id: str(),
    event_ids: array(str()),
    commands_generated: int(),
    claimed: array(
      extend(ClaimAnswer, { execution_pool: str(), trace: jsonObject() }, { optional: ['trace'] }),
    ),
  },
  { optional: ['event_id', 'event_ids', 'claimed'] },
);
export type IngestAnswer = Static<typeof IngestAnswer>;

export const ReleaseAnswer = object({ status: oneOf(['released', 'unchanged']), event_id: id() });

/** `POST /api/executions/{id}/rerun`. */
export const RerunAnswer = extend(ExecuteAnswer, { rerun_of: id() });

/** `POST /api/catalog/delete`. */
export const CatalogDeleted = object({
  status: str(),
  message: str(),
  path: str(),
  deleted: array(object({ catalog_id: id(), version: int(), archived: bool() })),
  count: int(),
});

/** `POST /api/catalog/restore`. */
export const CatalogRestored = object({
  status: str(),
  message: str(),
  path: str(),
  restored: array(object({ catalog_id: id(), version: int() })),
  count: int(),
});

/** `GET /api/credentials/{key}`: the summary, with field names or data only when asked. */
export const CredentialDetail = extend(
  CredentialSummary,
  {
    fields: array(str(), { description: 'names of the data fields (include_fields=true), never values' }),
    data: jsonObject({ description: 'decrypted data: only with include_data=true' }),
  },
  { optional: ['fields', 'data'] },
);

export const CredentialDeleted = object({ status: str(), id: id(), name: str() });

/** A keychain entry as lists show it: never its data. */
export const KeychainSummary = object({
  keychain_name: str(),
  cache_key: str(),
  scope_type: oneOf(['global', 'local', 'shared']),
  credential_type: str(),
  cache_type: str(),
  execution_id: nullable(str()),
  expires_at: str(),
  expired: bool(),
  auto_renew: bool(),
  access_count: int(),
  accessed_at: str(),
  created_at: str(),
});
export type KeychainSummary = Static<typeof KeychainSummary>;

export const KeychainList = object({ catalog_id: id(), entries: array(KeychainSummary), count: int() });

/** `GET /api/keychain/{catalog_id}/{name}`: found (with data) or expired (without). */
export const KeychainEntry = object(
  {
    status: oneOf(['found', 'expired']),
    keychain_name: str(),
    catalog_id: id(),
    cache_key: str(),
    scope_type: str(),
    credential_type: str(),
    expires_at: str(),
    auto_renew: bool(),
    access_count: int(),
    expired: bool(),
    data: json(),
    renew_config: json(),
  },
  { optional: ['data', 'renew_config'] },
);

export const KeychainStored = object({ status: str(), cache_key: str(), expires_at: str() });
export const KeychainDeleted = object({ status: str(), cache_key: str() });

/** A schedule (`/api/schedules`). */
export const Schedule = object({
  schedule_id: id(),
  path: str(),
  version: nullable(int()),
  cron: str(),
  timezone: str(),
  workload: json(),
  enabled: bool(),
  catchup: oneOf(['skip', 'one', 'all']),
  catchup_limit: int(),
  overlap: oneOf(['allow', 'skip', 'cancel_previous']),
  description: nullable(str()),
  next_run_at: nullable(str()),
  last_run_at: nullable(str()),
  last_status: nullable(str()),
  created_at: str(),
  updated_at: str(),
  next_fire_times: array(str()),
});
export type Schedule = Static<typeof Schedule>;

export const ScheduleList = object({ items: array(Schedule), count: int() });

export const ScheduleFire = object({
  schedule_id: id(),
  fire_time: str(),
  execution_id: nullable(str()),
  outcome: str(),
  error: nullable(str()),
  created_at: str(),
});
export type ScheduleFire = Static<typeof ScheduleFire>;

export const ScheduleFires = object({ items: array(ScheduleFire), count: int() });
export const ScheduleDeleted = object({ deleted: bool(), schedule_id: id() });
export const ScheduleTriggered = object({ schedule_id: id(), fire_time: str(), execution_id: id() });

/** One field of a run form (children are fields too). */
export const UiField = object(
  {
    name: str(),
    kind: str(),
    default: json(),
    description: nullable(str()),
    secret: bool(),
    credential_glob: nullable(str()),
    options: array(json()),
    children: array(jsonObject({ description: 'a field, as this one' })),
  },
  { optional: ['options', 'children'] },
);

/** `GET /api/catalog/{path}/ui_schema`: the run form inferred from the workload. */
export const UiSchema = object({
  path: str(),
  version: int(),
  kind: str(),
  title: nullable(str()),
  description_markdown: nullable(str()),
  exposed_in_ui: bool(),
  fields: array(UiField),
  generated_at: str(),
});

/** `POST /api/execute/batch`: each item's outcome in its place. */
export const BatchAnswer = object({
  count: int(),
  started: int(),
  duplicates: int(),
  failed: int(),
  results: array(
    object(
      {
        index: int(),
        execution_id: id(),
        status: str({ description: 'started, duplicate or failed' }),
        commands_generated: int(),
        error: str(),
      },
      { optional: ['execution_id', 'commands_generated', 'error'] },
    ),
  ),
});

/** `PUT /api/result/{execution_id}`: where the value is kept. */
export const ResultStored = object({
  ref: str({ description: 'noetl://execution/<execution_id>/result/<name>/<result_id>' }),
  store: str(),
  scope: str(),
  bytes: int(),
  sha256: str(),
});

/** `GET /api/result/resolve`: the stored value itself, whatever JSON it is. */
export const ResultValue = json({ description: 'the value as it was stored' });
