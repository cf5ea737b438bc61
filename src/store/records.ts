import type { ExecutionStatus } from '../engine/index.js';
import type { JsonObject, JsonValue } from '../shared/index.js';

/**
 * Records the store reads and writes. Ids are decimal strings (snowflakes exceed 2^53);
 * timestamps are ISO 8601 strings with millisecond precision.
 */

export const COMMAND_STATUSES = [
  'PENDING',
  'CLAIMED',
  'RUNNING',
  'COMPLETED',
  'FAILED',
  'CANCELLED',
] as const;
export type CommandStatus = (typeof COMMAND_STATUSES)[number];

/** The engine's execution status, as the `execution` table stores it. */
export type { ExecutionStatus } from '../engine/index.js';
export const EXECUTION_STATUSES = [
  'RUNNING',
  'COMPLETED',
  'FAILED',
  'CANCELLED',
] as const satisfies readonly ExecutionStatus[];

export const VAR_TYPES = ['user_defined', 'step_result', 'computed', 'iterator_state'] as const;
export type VarType = (typeof VAR_TYPES)[number];

export const RUNTIME_KINDS = ['worker_pool', 'server_api', 'broker'] as const;
export type RuntimeKind = (typeof RUNTIME_KINDS)[number];

/** One event to write (`noetl.event` row, contract 3.1). */
export interface EventInput {
  readonly executionId: string;
  readonly eventId: string;
  readonly eventType: string;
  readonly catalogId?: string;
  readonly parentEventId?: string;
  readonly parentExecutionId?: string;
  /** Defaults to the database clock. */
  readonly createdAt?: string;
  readonly nodeId?: string;
  readonly nodeName?: string;
  readonly nodeType?: string;
  readonly status?: string;
  readonly duration?: number;
  readonly context?: JsonValue;
  /** `{status, context?, reference?}` only (CHECK constraint of contract 3.1). */
  readonly result?: JsonObject;
  readonly meta?: JsonObject;
  readonly error?: string;
  readonly workerId?: string;
  readonly idempotencyKey?: string;
  /**
   * String command id this event is about. When omitted it is taken from `meta.command_id`,
   * `context.command_id` or `result.context.command_id`.
   */
  readonly commandKey?: string;
  readonly currentIndex?: number;
}

export interface EventRecord {
  readonly executionId: string;
  readonly eventId: string;
  readonly eventType: string;
  readonly catalogId: string | null;
  readonly parentEventId: string | null;
  readonly parentExecutionId: string | null;
  readonly createdAt: string;
  readonly nodeId: string | null;
  readonly nodeName: string | null;
  readonly nodeType: string | null;
  readonly status: string | null;
  readonly duration: number | null;
  readonly context: JsonValue | null;
  readonly result: JsonObject | null;
  readonly meta: JsonObject | null;
  readonly error: string | null;
  readonly workerId: string | null;
  readonly commandKey: string | null;
  readonly idempotencyKey: string | null;
  readonly currentIndex: number | null;
}

/** One command row to insert with its `command.issued` event. */
export interface CommandInput {
  /** The `command.issued` event id. */
  readonly commandId: string;
  /** `<execution_id>:<step>:<event_id>[:i<n>]`. */
  readonly commandKey: string;
  readonly executionId: string;
  readonly catalogId?: string;
  readonly parentExecutionId?: string;
  readonly parentCommandId?: string;
  readonly stepName: string;
  readonly toolKind: string;
  readonly executionPool?: string;
  /** `{tool_config, args, render_context}`. */
  readonly context: JsonValue;
  readonly meta?: JsonObject;
  readonly attempt?: number;
  readonly iterIndex?: number;
  readonly loopEventId?: string;
}

export interface CommandRecord {
  readonly commandId: string;
  readonly commandKey: string;
  readonly eventId: string;
  readonly executionId: string;
  readonly catalogId: string | null;
  readonly parentExecutionId: string | null;
  readonly parentCommandId: string | null;
  readonly stepName: string;
  readonly toolKind: string;
  readonly executionPool: string | null;
  readonly status: CommandStatus;
  readonly workerId: string | null;
  readonly claimedAt: string | null;
  readonly startedAt: string | null;
  readonly completedAt: string | null;
  readonly attempt: number;
  readonly context: JsonValue | null;
  readonly meta: JsonObject | null;
  readonly result: JsonValue | null;
  readonly error: string | null;
  readonly iterIndex: number | null;
  readonly loopEventId: string | null;
  readonly latestEventId: string | null;
  readonly publishedAt: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** Creates the execution projection row when an execution starts. */
export interface ExecutionInit {
  readonly executionId: string;
  readonly catalogId?: string;
  readonly parentExecutionId?: string;
  readonly path?: string;
  /**
   * Kept in the row when given. The server leaves it out: the workload is on the execution's
   * `playbook_started` event, where `ExecutionStore.get` reads it when the row has none.
   */
  readonly workload?: JsonValue;
  /** `dedup.key` / `Idempotency-Key` of the execute request. */
  readonly idempotencyKey?: string;
}

/** An execution without its workload: what status and event reads need (`ExecutionStore.overview`). */
export type ExecutionOverview = Omit<ExecutionRecord, 'workload'>;

export interface ExecutionRecord {
  readonly executionId: string;
  readonly catalogId: string | null;
  readonly parentExecutionId: string | null;
  readonly path: string | null;
  readonly status: ExecutionStatus;
  readonly lastEventType: string | null;
  readonly lastNodeName: string | null;
  readonly lastEventId: string | null;
  readonly eventCount: number;
  readonly startTime: string;
  readonly endTime: string | null;
  readonly error: string | null;
  readonly workload: JsonValue | null;
  readonly idempotencyKey: string | null;
  readonly updatedAt: string;
}

export interface CatalogInput {
  readonly path: string;
  /** Lower-cased by the store. */
  readonly kind: string;
  readonly content: string;
  readonly layout?: JsonValue;
  readonly payload?: JsonValue;
  readonly meta?: JsonValue;
}

export interface CatalogRecord {
  readonly catalogId: string;
  readonly path: string;
  readonly version: number;
  readonly kind: string;
  readonly content: string | null;
  readonly layout: JsonValue | null;
  readonly payload: JsonValue | null;
  readonly meta: JsonValue | null;
  readonly archived: boolean;
  readonly createdAt: string;
}

export interface CredentialInput {
  readonly name: string;
  readonly type: string;
  /** Already encrypted by the caller (contract section 9); the store keeps it as text. */
  readonly dataEncrypted: string;
  readonly schema?: JsonValue;
  readonly meta?: JsonValue;
  readonly tags?: readonly string[];
  readonly description?: string;
}

export interface CredentialSummary {
  readonly id: string;
  readonly name: string;
  readonly type: string;
  readonly schema: JsonValue | null;
  readonly meta: JsonValue | null;
  readonly tags: readonly string[];
  readonly description: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface CredentialRecord extends CredentialSummary {
  readonly dataEncrypted: string;
}

export interface VarInput {
  readonly name: string;
  readonly value: JsonValue;
  /** Default `user_defined`. */
  readonly type?: VarType;
  readonly sourceStep?: string;
}

export interface VarRecord {
  readonly executionId: string;
  readonly name: string;
  readonly type: VarType;
  readonly value: JsonValue;
  readonly sourceStep: string | null;
  readonly createdAt: string;
  readonly accessedAt: string;
  readonly accessCount: number;
}

export interface RuntimeInput {
  readonly name: string;
  readonly kind: RuntimeKind;
  readonly uri?: string;
  /** Default `active`. */
  readonly status?: string;
  readonly labels?: JsonValue;
  readonly capabilities?: JsonValue;
  readonly capacity?: number;
  /** Free-form facts (hostname, pid, version...). */
  readonly runtime?: JsonValue;
}

export interface RuntimeRecord {
  readonly runtimeId: string;
  readonly name: string;
  readonly kind: RuntimeKind;
  readonly uri: string | null;
  readonly status: string;
  readonly labels: JsonValue | null;
  readonly capabilities: JsonValue | null;
  readonly capacity: number | null;
  readonly runtime: JsonValue | null;
  readonly heartbeat: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface KeychainInput {
  readonly cacheKey: string;
  readonly keychainName: string;
  readonly catalogId: string;
  readonly credentialType: string;
  readonly cacheType: 'secret' | 'token';
  readonly scopeType: 'local' | 'global' | 'shared';
  readonly executionId?: string;
  readonly parentExecutionId?: string;
  readonly dataEncrypted: string;
  readonly schema?: JsonValue;
  readonly expiresAt: string;
  readonly autoRenew?: boolean;
  readonly renewConfig?: JsonValue;
}

export interface KeychainRecord {
  readonly cacheKey: string;
  readonly keychainName: string;
  readonly catalogId: string;
  readonly credentialType: string;
  readonly cacheType: 'secret' | 'token';
  readonly scopeType: 'local' | 'global' | 'shared';
  readonly executionId: string | null;
  readonly parentExecutionId: string | null;
  readonly dataEncrypted: string;
  readonly schema: JsonValue | null;
  readonly expiresAt: string;
  readonly expired: boolean;
  readonly createdAt: string;
  readonly accessedAt: string;
  readonly accessCount: number;
  readonly autoRenew: boolean;
  readonly renewConfig: JsonValue | null;
}
