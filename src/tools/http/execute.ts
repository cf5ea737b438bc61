import { CancelledError, errorMessage, TimeoutError, ToolError } from '../../shared/index.js';
import type { ToolContext, ToolOutput } from '../types.js';
import { resolveAuthHeaders } from './auth.js';
import { readHttpConfig, type HttpBody, type HttpConfig } from './config.js';

const JSON_TYPE_RE = /[/+]json\b/i;

function buildUrl(config: HttpConfig): string {
  const url = new URL(config.url);
  for (const [key, value] of config.params) url.searchParams.append(key, value);
  return url.toString();
}

function hasHeader(headers: Record<string, string>, name: string): boolean {
  const lower = name.toLowerCase();
  return Object.keys(headers).some((k) => k.toLowerCase() === lower);
}

function encodeBody(body: HttpBody, headers: Record<string, string>): string | undefined {
  switch (body.kind) {
    case 'none':
      return undefined;
    case 'raw':
      return body.text;
    case 'json':
      if (!hasHeader(headers, 'content-type')) headers['Content-Type'] = 'application/json';
      return JSON.stringify(body.value);
    case 'form':
      if (!hasHeader(headers, 'content-type')) {
        headers['Content-Type'] = 'application/x-www-form-urlencoded';
      }
      return new URLSearchParams(body.fields).toString();
  }
}

async function readBody(response: Response, config: HttpConfig): Promise<unknown> {
  if (config.responseType === 'binary') {
    const bytes = Buffer.from(await response.arrayBuffer());
    return { base64: bytes.toString('base64'), size: bytes.length };
  }
  const text = await response.text();
  if (config.responseType === 'text') return text;
  const isJson = JSON_TYPE_RE.test(response.headers.get('content-type') ?? '');
  if (text.trim() === '') return isJson ? null : text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function isRetryableStatus(status: number): boolean {
  return status === 429 || status === 408 || status >= 500;
}

export async function executeHttp(
  ctx: ToolContext,
  rawConfig: Readonly<Record<string, unknown>>,
): Promise<ToolOutput> {
  const config = readHttpConfig(rawConfig);
  const headers: Record<string, string> = { ...config.headers };
  for (const [k, v] of Object.entries(await resolveAuthHeaders(ctx, config.auth))) {
    if (!hasHeader(headers, k)) headers[k] = v;
  }
  const traceparent = ctx.services.traceparent;
  if (traceparent !== undefined && !hasHeader(headers, 'traceparent')) headers['traceparent'] = traceparent;
  const body = encodeBody(config.body, headers);
  const url = buildUrl(config);
  const timeout = AbortSignal.timeout(config.timeoutMs);
  const signal = AbortSignal.any([ctx.signal, timeout]);
  let response: Response;
  let parsed: unknown;
  try {
    response = await fetch(url, {
      method: config.method,
      headers,
      redirect: config.followRedirects ? 'follow' : 'manual',
      signal,
      ...(body !== undefined ? { body } : {}),
    });
    parsed = await readBody(response, config);
  } catch (err) {
    if (ctx.signal.aborted) throw new CancelledError('http: cancelled');
    if (timeout.aborted) {
      throw new TimeoutError(
        `http: ${config.method} ${config.url} timed out after ${config.timeoutMs / 1000}s`,
        {
          details: { url: config.url, timeout_seconds: config.timeoutMs / 1000 },
        },
      );
    }
    const cause = err instanceof Error && err.cause !== undefined ? `: ${errorMessage(err.cause)}` : '';
    throw new ToolError(`http: ${config.method} ${config.url} failed: ${errorMessage(err)}${cause}`, {
      retryable: true,
      cause: err,
      details: { url: config.url },
    });
  }
  const status = response.status;
  const data = {
    status_code: status,
    headers: Object.fromEntries(response.headers.entries()),
    data: parsed,
    body: parsed,
  };
  if (status < 200 || status > 299) {
    throw new ToolError(`HTTP ${status} response`, {
      retryable: isRetryableStatus(status),
      details: { data, extra: { http: { status } }, url: config.url },
    });
  }
  return { data, extra: { http: { status } } };
}
