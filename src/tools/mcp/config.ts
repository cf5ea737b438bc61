import { isPlainObject } from '../../shared/index.js';
import {
  configError,
  optMap,
  optNumber,
  optSeconds,
  optString,
  optStringMap,
  pick,
  typeName,
  type ConfigMap,
} from '../config-helpers.js';

export const MCP_KIND = 'mcp';
export const DEFAULT_PROTOCOL_VERSION = '2025-03-26';
export const DEFAULT_TIMEOUT_SECONDS = 60;

type Env = Readonly<Record<string, string | undefined>>;

export interface McpConfig {
  readonly endpoint: string;
  /** The `server` name, when the endpoint came from (or could come from) env. */
  readonly server?: string;
  /** JSON-RPC method, or `health` (a GET of the server's /healthz, no JSON-RPC). */
  readonly method: string;
  /** `tools/call` only. */
  readonly tool?: string;
  /** The request's `params` (for tools/call: `{name, arguments}`). */
  readonly params: ConfigMap;
  readonly timeoutMs: number;
  /** Id of `initialize`; the method call uses the next one. */
  readonly requestId: number;
  readonly protocolVersion: string;
  readonly clientName: string;
  readonly clientVersion: string;
  readonly capabilities: ConfigMap;
  readonly headers: Readonly<Record<string, string>>;
  /** Inline auth fields (`{type, token|username|password|header}`); aliases are applied before. */
  readonly auth?: ConfigMap;
}

/** `my-server` -> `NOETL_MCP_MY_SERVER_ENDPOINT`. */
export function serverEnvName(server: string): string {
  return `NOETL_MCP_${server.replace(/[^A-Za-z0-9]/g, '_').toUpperCase()}_ENDPOINT`;
}

function envValue(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v === undefined || v === '' ? undefined : v;
}

function readEndpoint(config: ConfigMap, env: Env, server: string | undefined): string {
  const given = optString(MCP_KIND, config, 'endpoint', 'url', 'server_url', 'base_url');
  const fromEnv = server !== undefined ? envValue(env, serverEnvName(server)) : undefined;
  const endpoint = given ?? fromEnv ?? envValue(env, 'NOETL_MCP_URL');
  if (endpoint === undefined || endpoint === '') {
    const hint = server !== undefined ? `env ${serverEnvName(server)} or ` : "'server' with its env var, or ";
    throw configError(MCP_KIND, `'endpoint' (or 'url') is required; or set ${hint}env NOETL_MCP_URL`);
  }
  try {
    new URL(endpoint);
  } catch {
    throw configError(MCP_KIND, `'endpoint' is not an absolute URL: ${endpoint}`);
  }
  return endpoint.replace(/\/+$/, '');
}

/** A map given as a map or as a JSON string of one. */
function objectArg(config: ConfigMap, ...keys: string[]): ConfigMap | undefined {
  const value = pick(config, ...keys);
  if (value === undefined) return undefined;
  let parsed: unknown = value;
  if (typeof value === 'string') {
    try {
      parsed = value.trim() === '' ? {} : (JSON.parse(value) as unknown);
    } catch {
      throw configError(MCP_KIND, `'${keys[0] ?? ''}' must be a map (or a JSON object string)`);
    }
  }
  if (!isPlainObject(parsed)) {
    throw configError(MCP_KIND, `'${keys[0] ?? ''}' must be a map, got ${typeName(parsed)}`);
  }
  return parsed;
}

function readTimeoutMs(config: ConfigMap, env: Env): number {
  const given = optSeconds(MCP_KIND, config, 'timeout', 'timeout_seconds');
  if (given !== undefined) return given;
  const fromEnv = Number(envValue(env, 'NOETL_MCP_REQUEST_TIMEOUT_SECONDS'));
  const seconds = Number.isFinite(fromEnv) && fromEnv > 0 ? fromEnv : DEFAULT_TIMEOUT_SECONDS;
  return Math.round(seconds * 1000);
}

function readAuth(config: ConfigMap): ConfigMap | undefined {
  const auth = pick(config, 'auth');
  if (auth === undefined || auth === '') return undefined;
  if (isPlainObject(auth)) return auth;
  throw configError(MCP_KIND, `'auth' must be a credential alias or a map, got ${typeName(auth)}`);
}

export function readMcpConfig(config: ConfigMap, env: Env = {}): McpConfig {
  const server = optString(MCP_KIND, config, 'server');
  const tool = optString(MCP_KIND, config, 'tool', 'tool_name');
  const method =
    optString(MCP_KIND, config, 'method', 'action')?.trim() || (tool ? 'tools/call' : 'tools/list');
  let params: ConfigMap;
  if (method === 'tools/call') {
    if (tool === undefined || tool === '') throw configError(MCP_KIND, "'tool' is required for tools/call");
    params = { name: tool, arguments: objectArg(config, 'arguments', 'args', 'params') ?? {} };
  } else {
    params = objectArg(config, 'params', 'arguments', 'args') ?? {};
  }
  const requestId = optNumber(MCP_KIND, config, 'request_id') ?? 1;
  if (!Number.isSafeInteger(requestId)) throw configError(MCP_KIND, "'request_id' must be an integer");
  const auth = readAuth(config);
  return {
    endpoint: readEndpoint(config, env, server),
    ...(server !== undefined ? { server } : {}),
    method,
    ...(method === 'tools/call' && tool !== undefined ? { tool } : {}),
    params,
    timeoutMs: readTimeoutMs(config, env),
    requestId,
    protocolVersion: optString(MCP_KIND, config, 'protocol_version') ?? DEFAULT_PROTOCOL_VERSION,
    clientName: optString(MCP_KIND, config, 'client_name') ?? 'noetl',
    clientVersion: optString(MCP_KIND, config, 'client_version') ?? '0.1.0',
    capabilities: optMap(MCP_KIND, config, 'capabilities') ?? {},
    headers: optStringMap(MCP_KIND, config, 'headers') ?? {},
    ...(auth !== undefined ? { auth } : {}),
  };
}
