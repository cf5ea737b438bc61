import type { DbRow } from '../db.js';
import type {
  CatalogRecord,
  CommandRecord,
  CommandStatus,
  CredentialRecord,
  CredentialSummary,
  EventRecord,
  ExecutionOverview,
  ExecutionRecord,
  ExecutionStatus,
  KeychainRecord,
  RuntimeKind,
  RuntimeRecord,
  VarRecord,
  VarType,
} from '../records.js';
import {
  bool,
  num,
  numOrNull,
  jsonOrNull,
  objectOrNull,
  text,
  textArray,
  textOrNull,
  time,
  timeOrNull,
} from '../rows.js';

/** Row to record. Enum-like columns are guarded by CHECK constraints in the schema. */

export function toEvent(row: DbRow): EventRecord {
  return {
    executionId: text(row, 'execution_id'),
    eventId: text(row, 'event_id'),
    eventType: text(row, 'event_type'),
    catalogId: textOrNull(row, 'catalog_id'),
    parentEventId: textOrNull(row, 'parent_event_id'),
    parentExecutionId: textOrNull(row, 'parent_execution_id'),
    createdAt: time(row, 'created_at'),
    nodeId: textOrNull(row, 'node_id'),
    nodeName: textOrNull(row, 'node_name'),
    nodeType: textOrNull(row, 'node_type'),
    status: textOrNull(row, 'status'),
    duration: numOrNull(row, 'duration'),
    context: jsonOrNull(row, 'context'),
    result: objectOrNull(row, 'result'),
    meta: objectOrNull(row, 'meta'),
    error: textOrNull(row, 'error'),
    workerId: textOrNull(row, 'worker_id'),
    commandKey: textOrNull(row, 'command_key'),
    idempotencyKey: textOrNull(row, 'idempotency_key'),
    currentIndex: numOrNull(row, 'current_index'),
  };
}

export function toCommand(row: DbRow): CommandRecord {
  return {
    commandId: text(row, 'command_id'),
    commandKey: text(row, 'command_key'),
    eventId: text(row, 'event_id'),
    executionId: text(row, 'execution_id'),
    catalogId: textOrNull(row, 'catalog_id'),
    parentExecutionId: textOrNull(row, 'parent_execution_id'),
    parentCommandId: textOrNull(row, 'parent_command_id'),
    stepName: text(row, 'step_name'),
    toolKind: text(row, 'tool_kind'),
    executionPool: textOrNull(row, 'execution_pool'),
    status: text(row, 'status') as CommandStatus,
    workerId: textOrNull(row, 'worker_id'),
    claimedAt: timeOrNull(row, 'claimed_at'),
    startedAt: timeOrNull(row, 'started_at'),
    completedAt: timeOrNull(row, 'completed_at'),
    attempt: num(row, 'attempt'),
    context: jsonOrNull(row, 'context'),
    meta: objectOrNull(row, 'meta'),
    result: jsonOrNull(row, 'result'),
    error: textOrNull(row, 'error'),
    iterIndex: numOrNull(row, 'iter_index'),
    loopEventId: textOrNull(row, 'loop_event_id'),
    latestEventId: textOrNull(row, 'latest_event_id'),
    publishedAt: timeOrNull(row, 'published_at'),
    createdAt: time(row, 'created_at'),
    updatedAt: time(row, 'updated_at'),
  };
}

export function toExecution(row: DbRow): ExecutionRecord {
  return { ...toExecutionOverview(row), workload: jsonOrNull(row, 'workload') };
}

export function toExecutionOverview(row: DbRow): ExecutionOverview {
  return {
    executionId: text(row, 'execution_id'),
    catalogId: textOrNull(row, 'catalog_id'),
    parentExecutionId: textOrNull(row, 'parent_execution_id'),
    path: textOrNull(row, 'path'),
    status: text(row, 'status') as ExecutionStatus,
    lastEventType: textOrNull(row, 'last_event_type'),
    lastNodeName: textOrNull(row, 'last_node_name'),
    lastEventId: textOrNull(row, 'last_event_id'),
    eventCount: num(row, 'event_count'),
    startTime: time(row, 'start_time'),
    endTime: timeOrNull(row, 'end_time'),
    error: textOrNull(row, 'error'),
    idempotencyKey: textOrNull(row, 'idempotency_key'),
    updatedAt: time(row, 'updated_at'),
  };
}

export function toCatalog(row: DbRow): CatalogRecord {
  return {
    catalogId: text(row, 'catalog_id'),
    path: text(row, 'path'),
    version: num(row, 'version'),
    kind: text(row, 'kind'),
    content: textOrNull(row, 'content'),
    layout: jsonOrNull(row, 'layout'),
    payload: jsonOrNull(row, 'payload'),
    meta: jsonOrNull(row, 'meta'),
    archived: bool(row, 'archived'),
    createdAt: time(row, 'created_at'),
  };
}

export function toCredentialSummary(row: DbRow): CredentialSummary {
  return {
    id: text(row, 'id'),
    name: text(row, 'name'),
    type: text(row, 'type'),
    schema: jsonOrNull(row, 'schema'),
    meta: jsonOrNull(row, 'meta'),
    tags: textArray(row, 'tags'),
    description: textOrNull(row, 'description'),
    createdAt: time(row, 'created_at'),
    updatedAt: time(row, 'updated_at'),
  };
}

export function toCredential(row: DbRow): CredentialRecord {
  return { ...toCredentialSummary(row), dataEncrypted: text(row, 'data_encrypted') };
}

export function toVar(row: DbRow): VarRecord {
  return {
    executionId: text(row, 'execution_id'),
    name: text(row, 'var_name'),
    type: text(row, 'var_type') as VarType,
    value: jsonOrNull(row, 'var_value'),
    sourceStep: textOrNull(row, 'source_step'),
    createdAt: time(row, 'created_at'),
    accessedAt: time(row, 'accessed_at'),
    accessCount: num(row, 'access_count'),
  };
}

export function toRuntime(row: DbRow): RuntimeRecord {
  return {
    runtimeId: text(row, 'runtime_id'),
    name: text(row, 'name'),
    kind: text(row, 'kind') as RuntimeKind,
    uri: textOrNull(row, 'uri'),
    status: text(row, 'status'),
    labels: jsonOrNull(row, 'labels'),
    capabilities: jsonOrNull(row, 'capabilities'),
    capacity: numOrNull(row, 'capacity'),
    runtime: jsonOrNull(row, 'runtime'),
    heartbeat: time(row, 'heartbeat'),
    createdAt: time(row, 'created_at'),
    updatedAt: time(row, 'updated_at'),
  };
}

export function toKeychain(row: DbRow): KeychainRecord {
  return {
    cacheKey: text(row, 'cache_key'),
    keychainName: text(row, 'keychain_name'),
    catalogId: text(row, 'catalog_id'),
    credentialType: text(row, 'credential_type'),
    cacheType: text(row, 'cache_type') as KeychainRecord['cacheType'],
    scopeType: text(row, 'scope_type') as KeychainRecord['scopeType'],
    executionId: textOrNull(row, 'execution_id'),
    parentExecutionId: textOrNull(row, 'parent_execution_id'),
    dataEncrypted: text(row, 'data_encrypted'),
    schema: jsonOrNull(row, 'schema'),
    expiresAt: time(row, 'expires_at'),
    expired: bool(row, 'expired'),
    createdAt: time(row, 'created_at'),
    accessedAt: time(row, 'accessed_at'),
    accessCount: num(row, 'access_count'),
    autoRenew: bool(row, 'auto_renew'),
    renewConfig: jsonOrNull(row, 'renew_config'),
  };
}
