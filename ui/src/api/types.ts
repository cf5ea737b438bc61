// Wire types of the public HTTP API the UI reads (docs/api.md). The shapes the server declares
// as its routes' response schemas come from the one wire model (src/shared/wire.ts, types only:
// nothing of src/ is bundled); the rest are declared here until their routes declare them.

import type { JsonObject, JsonValue as Json } from '../../../src/shared/json.js';
import type { wire } from '../../../src/shared/index.js';

export type { Json, JsonObject };

export type ExecutionStatus = wire.ExecutionStatus;
export type ExecutionSummary = wire.ExecutionSummary;
/** `GET /api/executions/{id}` (with a page of brief events). */
export type ExecutionDetail = wire.ExecutionDetail;
/** What the execution page needs of an execution, from the summary route or the detail route. */
export type ExecutionHead = Omit<wire.ExecutionSummary, 'event_count'> & { workload: JsonObject | null };
/** `GET /api/executions/{id}/summary`: one step as the engine folded it. */
export type StepSummary = wire.StepSummary;
/** `GET /api/executions/{id}/summary`: the execution page in one request. */
export type ExecutionPageSummary = wire.ExecutionPage;
export type WireEvent = wire.EventView;
export type EventsPage = wire.EventsPage;

export type CatalogEntry = wire.CatalogEntry;

export type Diagnostic = wire.Diagnostic;

export type RegisterAnswer = wire.RegisterAnswer;

export type GraphStep = wire.GraphStep;

export type GraphArc = wire.GraphArc;

export type PlaybookGraph = wire.PlaybookGraph;

export type GraphAnswer = wire.GraphAnswer;

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

export type ExecuteAnswer = wire.ExecuteAnswer;

export type Credential = wire.CredentialSummary;

export type WorkerPool = wire.WorkerPool;

/** Every part optional: an older server sends fewer. */
export type DashboardStats = Partial<wire.DashboardStats>;

export type LatestFailure = wire.LatestFailure;

export type PoolUsage = wire.PoolUsage;

export type ApiErrorBody = Partial<wire.ErrorBody>;
