import { applyToolAuth, authAlias } from '../credentials.js';
import type { ToolContext, ToolOutput } from '../types.js';
import { readNatsConfig, type NatsConfig } from './config.js';
import { withNatsSession, type NatsSession } from './connection.js';
import { runJetStream } from './jetstream.js';
import { runKv } from './kv.js';
import { runObjectStore } from './object-store.js';

function dispatch(session: NatsSession, cfg: NatsConfig): Promise<Record<string, unknown>> {
  const op = cfg.operation;
  switch (op) {
    case 'kv_get':
    case 'kv_put':
    case 'kv_delete':
    case 'kv_keys':
    case 'kv_purge':
      return runKv(op, session, cfg);
    case 'object_get':
    case 'object_put':
    case 'object_delete':
    case 'object_list':
    case 'object_info':
      return runObjectStore(op, session, cfg);
    case 'js_publish':
    case 'js_consume':
    case 'js_get_msg':
    case 'js_stream_info':
      return runJetStream(op, session, cfg);
  }
}

export async function executeNats(
  ctx: ToolContext,
  rawConfig: Readonly<Record<string, unknown>>,
): Promise<ToolOutput> {
  // The pipeline applies `auth: <alias>` before a tool runs (authTarget); a direct call may not have.
  const config =
    authAlias(rawConfig) !== undefined
      ? await applyToolAuth('nats', rawConfig, ctx.services, ctx.signal)
      : rawConfig;
  const cfg = readNatsConfig(config, ctx.services.env ?? {});
  const data = await withNatsSession(cfg.connection, cfg.timeoutMs, ctx.signal, (session) =>
    dispatch(session, cfg),
  );
  return { data };
}
