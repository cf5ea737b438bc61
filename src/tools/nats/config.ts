import {
  configError,
  optSeconds,
  optString,
  pick,
  reqString,
  typeName,
  type ConfigMap,
} from '../config-helpers.js';

export const NATS_KIND = 'nats';

/** Every operation of contract section 2 (`js_consume` is a bounded pull, never a subscription). */
export const NATS_OPERATIONS = [
  'kv_get',
  'kv_put',
  'kv_delete',
  'kv_keys',
  'kv_purge',
  'object_get',
  'object_put',
  'object_delete',
  'object_list',
  'object_info',
  'js_publish',
  'js_consume',
  'js_get_msg',
  'js_stream_info',
] as const;
export type NatsOperation = (typeof NATS_OPERATIONS)[number];

export type NatsEncoding = 'utf-8' | 'base64';

/** Where and as whom to connect; the cache key of a connection. */
export interface NatsConnectionSpec {
  readonly servers: readonly string[];
  readonly user?: string;
  readonly password?: string;
  readonly token?: string;
  /** A `.creds` file's content or its path (decentralised JWT auth). */
  readonly creds?: string;
}

export interface NatsConfig {
  readonly operation: NatsOperation;
  readonly connection: NatsConnectionSpec;
  readonly encoding: NatsEncoding;
  /** Per JetStream request (and connect) timeout. */
  readonly timeoutMs: number;
  /** The rendered config, for the keys only one operation reads. */
  readonly fields: ConfigMap;
}

export const DEFAULT_NATS_TIMEOUT_MS = 10_000;

function readServers(config: ConfigMap, env: Readonly<Record<string, string | undefined>>): string[] {
  const raw = pick(config, 'url', 'servers', 'nats_url') ?? env['NATS_URL'];
  const list = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',') : undefined;
  if (raw !== undefined && list === undefined) {
    throw configError(NATS_KIND, `'url' must be a string or a list, got ${typeName(raw)}`);
  }
  const servers = (list ?? []).map((s) => (typeof s === 'string' ? s.trim() : '')).filter((s) => s !== '');
  if (servers.length === 0) {
    throw configError(NATS_KIND, "'url' (or an 'auth' credential of type nats, or env NATS_URL) is required");
  }
  return servers;
}

function readOperation(config: ConfigMap): NatsOperation {
  const op = reqString(NATS_KIND, config, 'operation', 'op').trim().toLowerCase();
  if (!(NATS_OPERATIONS as readonly string[]).includes(op)) {
    throw configError(NATS_KIND, `unknown operation '${op}' (supported: ${NATS_OPERATIONS.join(', ')})`);
  }
  return op as NatsOperation;
}

function readEncoding(config: ConfigMap): NatsEncoding {
  const raw = (optString(NATS_KIND, config, 'encoding') ?? 'utf-8').trim().toLowerCase();
  if (raw === 'utf-8' || raw === 'utf8' || raw === 'text') return 'utf-8';
  if (raw === 'base64') return 'base64';
  throw configError(NATS_KIND, `'encoding' must be utf-8 or base64, got ${raw}`);
}

/**
 * Reads a rendered nats tool block. Credential fields (`auth: <alias>` of type nats) are applied
 * before this by the pipeline (ToolDefinition.authTarget), so only plain fields are read here.
 */
export function readNatsConfig(
  config: ConfigMap,
  env: Readonly<Record<string, string | undefined>> = {},
): NatsConfig {
  const operation = readOperation(config);
  const user = optString(NATS_KIND, config, 'user', 'username', 'nats_user');
  const password = optString(NATS_KIND, config, 'password', 'nats_password');
  const token = optString(NATS_KIND, config, 'token', 'nats_token');
  const creds = optString(NATS_KIND, config, 'creds', 'nats_creds');
  const connection: NatsConnectionSpec = {
    servers: readServers(config, env),
    ...(user !== undefined && user !== '' ? { user } : {}),
    ...(password !== undefined && password !== '' ? { password } : {}),
    ...(token !== undefined && token !== '' ? { token } : {}),
    ...(creds !== undefined && creds !== '' ? { creds } : {}),
  };
  return {
    operation,
    connection,
    encoding: readEncoding(config),
    timeoutMs: optSeconds(NATS_KIND, config, 'timeout', 'timeout_seconds') ?? DEFAULT_NATS_TIMEOUT_MS,
    fields: config,
  };
}
