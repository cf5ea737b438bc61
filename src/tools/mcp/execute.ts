import {
  CancelledError,
  errorMessage,
  isPlainObject,
  NoetlError,
  TimeoutError,
  ToolError,
} from '../../shared/index.js';
import { applyToolAuth, authAlias } from '../credentials.js';
import { authHeaders } from '../http/auth.js';
import type { ToolContext, ToolOutput } from '../types.js';
import { readMcpConfig, type McpConfig } from './config.js';
import { endSession, notify, request, type JsonRpcResponse, type RpcSession } from './rpc.js';

/** `http://h/mcp` -> `http://h/healthz`; `http://h/api` -> `http://h/api/healthz`. */
export function healthUrl(endpoint: string): string {
  const url = new URL(endpoint);
  const path = url.pathname.replace(/\/+$/, '');
  url.pathname = ['', '/mcp', '/sse', '/message', '/messages'].includes(path)
    ? '/healthz'
    : `${path}/healthz`;
  url.search = '';
  return url.toString();
}

/** The text parts of a tools/call `content`, joined by newlines. */
export function contentText(content: unknown): string {
  if (!Array.isArray(content)) return '';
  return content
    .filter(
      (c): c is { type: 'text'; text: string } =>
        isPlainObject(c) && c.type === 'text' && typeof c.text === 'string',
    )
    .map((c) => c.text)
    .join('\n');
}

function rpcFailure(cfg: McpConfig, method: string, response: JsonRpcResponse): ToolError {
  const error = response.error ?? { code: -32603, message: 'unknown error' };
  return new ToolError(`mcp: ${method} failed: ${error.message} (JSON-RPC error ${error.code})`, {
    details: { endpoint: cfg.endpoint, method, jsonrpc_error: error },
  });
}

async function health(
  cfg: McpConfig,
  headers: Record<string, string>,
  signal: AbortSignal,
): Promise<unknown> {
  const url = healthUrl(cfg.endpoint);
  const res = await fetch(url, { headers, signal });
  const body = await res.text();
  const data = { healthy: res.ok, status_code: res.status, url, body };
  if (!res.ok) {
    throw new ToolError(`mcp: health check ${url} answered HTTP ${res.status}`, {
      retryable: true,
      details: { data, endpoint: cfg.endpoint },
    });
  }
  return data;
}

/** initialize -> notifications/initialized -> the method; the session is ended afterwards. */
async function converse(cfg: McpConfig, s: RpcSession): Promise<unknown> {
  const init = await request(s, 'initialize', cfg.requestId, {
    protocolVersion: cfg.protocolVersion,
    capabilities: cfg.capabilities,
    clientInfo: { name: cfg.clientName, version: cfg.clientVersion },
  });
  if (init.error) throw rpcFailure(cfg, 'initialize', init);
  const negotiated = isPlainObject(init.result) ? init.result.protocolVersion : undefined;
  s.protocolVersion = typeof negotiated === 'string' ? negotiated : cfg.protocolVersion;
  try {
    if (cfg.method === 'initialize') return init.result;
    await notify(s, 'notifications/initialized');
    const response = await request(s, cfg.method, cfg.requestId + 1, cfg.params);
    if (response.error) throw rpcFailure(cfg, cfg.method, response);
    return response.result;
  } finally {
    await endSession(s);
  }
}

/** tools/call: `content`, `isError` always present, `text` added; an `isError` result fails. */
function toolResult(cfg: McpConfig, result: unknown): Record<string, unknown> {
  const r = isPlainObject(result) ? result : { value: result };
  const content = Array.isArray(r.content) ? r.content : [];
  const data = { ...r, content, isError: r.isError === true, text: contentText(content) };
  if (data.isError) {
    throw new ToolError(
      `mcp: tool '${cfg.tool ?? ''}' failed: ${data.text || 'isError result without text'}`,
      {
        details: { data, endpoint: cfg.endpoint, tool: cfg.tool },
      },
    );
  }
  return data;
}

export async function executeMcp(
  ctx: ToolContext,
  rawConfig: Readonly<Record<string, unknown>>,
): Promise<ToolOutput> {
  // The pipeline applies `auth: <alias>` (authTarget http); a direct call may not have.
  const config =
    authAlias(rawConfig) !== undefined
      ? await applyToolAuth('http', rawConfig, ctx.services, ctx.signal)
      : rawConfig;
  const cfg = readMcpConfig(config, ctx.services.env ?? {});
  const headers = { ...(cfg.auth ? authHeaders(cfg.auth) : {}), ...cfg.headers };
  const timeout = AbortSignal.timeout(cfg.timeoutMs);
  const signal = AbortSignal.any([ctx.signal, timeout]);
  const session: RpcSession = { endpoint: cfg.endpoint, headers, signal };
  let result: unknown;
  try {
    result = cfg.method === 'health' ? await health(cfg, headers, signal) : await converse(cfg, session);
  } catch (err) {
    if (ctx.signal.aborted) throw new CancelledError('mcp: cancelled');
    if (timeout.aborted) {
      throw new TimeoutError(
        `mcp: ${cfg.method} on ${cfg.endpoint} timed out after ${cfg.timeoutMs / 1000}s`,
        {
          details: { endpoint: cfg.endpoint, method: cfg.method, timeout_seconds: cfg.timeoutMs / 1000 },
        },
      );
    }
    if (err instanceof NoetlError) throw err;
    const cause = err instanceof Error && err.cause !== undefined ? `: ${errorMessage(err.cause)}` : '';
    throw new ToolError(`mcp: ${cfg.method} on ${cfg.endpoint} failed: ${errorMessage(err)}${cause}`, {
      retryable: true,
      cause: err,
      details: { endpoint: cfg.endpoint, method: cfg.method },
    });
  }
  const data = cfg.method === 'tools/call' ? toolResult(cfg, result) : result;
  return {
    data,
    extra: {
      mcp: {
        endpoint: cfg.endpoint,
        method: cfg.method,
        ...(cfg.server !== undefined ? { server: cfg.server } : {}),
        ...(cfg.tool !== undefined ? { tool: cfg.tool } : {}),
        ...(session.protocolVersion !== undefined ? { protocol_version: session.protocolVersion } : {}),
      },
    },
  };
}
