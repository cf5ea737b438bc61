// Wire types of the public HTTP API the UI reads (docs/api.md). Declared here, not imported from
// src/, because the UI is its own build and talks to the server only over HTTP.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export type ExecutionStatus = 'RUNNING' | 'COMPLETED' | 'FAILED' | 'CANCELLED' | (string & {});

export interface ExecutionSummary {
  execution_id: string;
  catalog_id: string | null;
  path: string | null;
  status: ExecutionStatus;
  started_at: string | null;
  completed_at: string | null;
  parent_execution_id: string | null;
  event_count?: number;
  error: string | null;
}

export interface ExecutionDetail extends ExecutionSummary {
  workload: JsonObject | null;
}

/** `GET /api/executions/{id}/summary`: one step as the engine folded it. */
export interface StepSummary {
  name: string;
  status: 'pending' | 'running' | 'completed' | 'failed' | 'skipped' | 'cancelled';
  entered_at: string | null;
  completed_at: string | null;
  runs: number;
  attempts: number;
  loop: { expected: number; done: number } | null;
  error: string | null;
}

/** `GET /api/executions/{id}/summary`: the execution page in one request. */
export interface ExecutionPageSummary extends ExecutionDetail {
  version: string | null;
  last_event_id: string;
  steps: StepSummary[];
  graph: PlaybookGraph;
}

export interface WireEvent {
  event_id: string;
  execution_id?: string;
  event_type: string;
  node_name: string | null;
  node_type?: string | null;
  status: string | null;
  created_at: string;
  parent_event_id?: string | null;
  context: Json;
  result: Json;
  meta: Json;
  error: string | null;
  worker_id?: string | null;
}

export interface EventsPage {
  execution_id: string;
  status: ExecutionStatus;
  events: WireEvent[];
}

export interface CatalogEntry {
  catalog_id: string;
  path: string;
  kind: string;
  version: number;
  content?: string;
  layout?: Json;
  payload?: Json;
  meta?: Json;
  archived?: boolean;
  created_at: string;
}

export interface Diagnostic {
  code: string;
  severity: 'error' | 'warning' | (string & {});
  message: string;
  path?: string;
  line?: number | null;
  col?: number | null;
  column?: number | null;
}

export interface RegisterAnswer {
  status: string;
  message: string;
  path: string;
  version: number;
  catalog_id: string;
  kind: string;
  /** True when the content was that of the latest version, returned instead of a new one. */
  unchanged?: boolean;
  warnings: Diagnostic[];
}

export interface GraphStep {
  name: string;
  kind: string;
  desc?: string;
  loop?: { mode: string; max_in_flight?: number; over: string };
  fan_in?: boolean | string | number;
}

export interface GraphArc {
  from: string;
  to: string;
  when?: string;
}

export interface PlaybookGraph {
  entry: string;
  steps: GraphStep[];
  arcs: GraphArc[];
}

export interface GraphAnswer {
  valid: boolean;
  diagnostics: Diagnostic[];
  graph: PlaybookGraph | null;
}

export type UiFieldKind = 'string' | 'integer' | 'number' | 'boolean' | 'object' | 'array' | 'null' | 'enum';

export interface UiField {
  name: string;
  kind: UiFieldKind;
  default: Json;
  description: string | null;
  secret: boolean;
  credential_glob: string | null;
  options?: Json[];
  children?: UiField[];
}

export interface UiSchema {
  path: string;
  version: number;
  kind: string;
  title: string;
  description_markdown: string | null;
  exposed_in_ui: boolean;
  fields: UiField[];
}

export interface ExecuteAnswer {
  execution_id: string;
  status: string;
  commands_generated?: number;
}

export interface Credential {
  id: string;
  name: string;
  type: string;
  meta: Json;
  tags: string[] | null;
  description: string | null;
  schema?: Json;
  created_at: string;
  updated_at: string;
}

export interface WorkerPool {
  runtime_id: string;
  name: string;
  kind: string;
  uri: string | null;
  status: string;
  labels: Json;
  capabilities: Json;
  capacity: number | null;
  runtime: Json;
  heartbeat: string | null;
  created_at: string;
  updated_at: string;
}

export interface DashboardStats {
  status?: string;
  catalog?: { entries: number; paths: number };
  credentials?: number;
  executions?: {
    total: number;
    running: number;
    completed: number;
    failed: number;
    cancelled: number;
    last_24h: number;
  };
  commands?: { pending: number; running: number };
  worker_pools?: { active: number; total: number; items?: PoolUsage[] };
  // Added with the web UI (issue 13); absent on older servers.
  running?: number;
  failed_24h?: number;
  completed_24h?: number;
  /** Commands completed per minute over the last hour, oldest first. */
  throughput?: { t: string; count: number }[];
  latest_failures?: LatestFailure[];
}

export interface LatestFailure {
  execution_id: string;
  path: string | null;
  step: string | null;
  error: string | null;
  at: string | null;
}

export interface PoolUsage {
  name: string;
  status: string;
  slots: number | null;
  active: number;
  last_heartbeat: string | null;
  offline: boolean;
}

export interface ApiErrorBody {
  error?: string;
  status?: number;
  code?: string;
  details?: Json;
}
