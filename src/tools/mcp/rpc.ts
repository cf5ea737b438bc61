import { isPlainObject, ToolError } from '../../shared/index.js';
import type { ConfigMap } from '../config-helpers.js';
import { findResponse, readSseResponse } from './sse.js';

/**
 * JSON-RPC 2.0 over MCP's Streamable HTTP transport: every message is a POST accepting JSON or an
 * SSE stream; the `Mcp-Session-Id` the server gives on initialize goes on every later request.
 */

export interface JsonRpcError {
  readonly code: number;
  readonly message: string;
  readonly data?: unknown;
}

export interface JsonRpcResponse {
  readonly id: unknown;
  readonly result?: unknown;
  readonly error?: JsonRpcError;
}

/** One MCP conversation with a server. */
export interface RpcSession {
  readonly endpoint: string;
  /** Caller headers (auth, `headers:`). */
  readonly headers: Readonly<Record<string, string>>;
  readonly signal: AbortSignal;
  sessionId?: string;
  protocolVersion?: string;
}

const RETRYABLE_STATUS = new Set([408, 425, 429, 500, 502, 503, 504]);
const BODY_PREVIEW_CHARS = 300;

function requestHeaders(s: RpcSession): Record<string, string> {
  return {
    'Content-Type': 'application/json',
    Accept: 'application/json, text/event-stream',
    ...s.headers,
    ...(s.sessionId !== undefined ? { 'Mcp-Session-Id': s.sessionId } : {}),
    ...(s.protocolVersion !== undefined ? { 'MCP-Protocol-Version': s.protocolVersion } : {}),
  };
}

function asRpcError(value: unknown): JsonRpcError | undefined {
  if (!isPlainObject(value)) return undefined;
  const code = typeof value.code === 'number' ? value.code : -32603;
  const message = typeof value.message === 'string' ? value.message : JSON.stringify(value);
  return { code, message, ...(value.data !== undefined ? { data: value.data } : {}) };
}

/** A non-2xx answer: the JSON-RPC error in its body when there is one, else a preview of it. */
async function httpError(s: RpcSession, method: string, res: Response): Promise<ToolError> {
  const body = await res.text().catch(() => '');
  let rpc: JsonRpcError | undefined;
  try {
    const parsed = JSON.parse(body) as unknown;
    rpc = isPlainObject(parsed) ? asRpcError(parsed.error) : undefined;
  } catch {
    rpc = undefined;
  }
  const detail = rpc
    ? `: ${rpc.message}`
    : body.trim()
      ? `: ${body.trim().slice(0, BODY_PREVIEW_CHARS)}`
      : '';
  const session = res.status === 404 && s.sessionId !== undefined ? ' (session not found or expired)' : '';
  return new ToolError(`mcp: ${method}: HTTP ${res.status} from ${s.endpoint}${session}${detail}`, {
    retryable: RETRYABLE_STATUS.has(res.status),
    details: {
      endpoint: s.endpoint,
      method,
      status_code: res.status,
      ...(rpc ? { jsonrpc_error: rpc } : {}),
      extra: { http: { status: res.status } },
    },
  });
}

async function post(s: RpcSession, method: string, message: ConfigMap): Promise<Response> {
  const res = await fetch(s.endpoint, {
    method: 'POST',
    headers: requestHeaders(s),
    body: JSON.stringify(message),
    signal: s.signal,
  });
  if (!res.ok) throw await httpError(s, method, res);
  return res;
}

async function readResponse(res: Response, id: number, method: string): Promise<JsonRpcResponse> {
  const type = res.headers.get('content-type') ?? '';
  let found: unknown;
  if (/text\/event-stream/i.test(type) && res.body) {
    found = await readSseResponse(res.body, id);
  } else {
    const text = await res.text();
    try {
      found = findResponse(JSON.parse(text) as unknown, id);
    } catch {
      // Some servers send an SSE body under another content type.
      found = await readSseResponse(new Response(text).body ?? new ReadableStream(), id);
    }
  }
  if (found === undefined) {
    throw new ToolError(`mcp: ${method}: the server sent no JSON-RPC response with id ${id}`, {
      details: { method, id },
    });
  }
  const msg = found as Record<string, unknown>;
  const error = msg.error !== undefined ? asRpcError(msg.error) : undefined;
  return { id: msg.id, ...(error ? { error } : { result: msg.result }) };
}

/** Sends a request and returns its response (a JSON-RPC error is returned, not thrown). */
export async function request(
  s: RpcSession,
  method: string,
  id: number,
  params: ConfigMap,
): Promise<JsonRpcResponse> {
  const res = await post(s, method, { jsonrpc: '2.0', id, method, params });
  const sessionId = res.headers.get('mcp-session-id');
  if (sessionId !== null && sessionId !== '') s.sessionId = sessionId;
  return readResponse(res, id, method);
}

/** Sends a notification (the server answers 202 Accepted, no body). */
export async function notify(s: RpcSession, method: string, params?: ConfigMap): Promise<void> {
  const res = await post(s, method, { jsonrpc: '2.0', method, ...(params ? { params } : {}) });
  await res.body?.cancel().catch(() => undefined);
}

/** Ends the server-side session (servers may answer 405: they do not allow clients to). */
export async function endSession(s: RpcSession): Promise<void> {
  if (s.sessionId === undefined || s.signal.aborted) return;
  const headers = requestHeaders(s);
  delete headers['Content-Type'];
  try {
    const res = await fetch(s.endpoint, { method: 'DELETE', headers, signal: s.signal });
    await res.body?.cancel().catch(() => undefined);
  } catch {
    // Best effort: the session also times out on the server.
  }
}
