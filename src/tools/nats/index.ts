import type { ToolDefinition } from '../types.js';
import { executeNats } from './execute.js';

export const natsTool: ToolDefinition = {
  kind: 'nats',
  description:
    'NATS JetStream KV, object store and stream operations (`operation: kv_get`, `js_publish`...).',
  authTarget: 'nats',
  execute: executeNats,
};

export { closeNatsConnections } from './connection.js';
export { NATS_OPERATIONS, type NatsOperation } from './config.js';
