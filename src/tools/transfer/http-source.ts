import { CancelledError, errorMessage, TimeoutError, ToolError } from '../../shared/index.js';
import { scalarText } from '../config-helpers.js';
import { resolveAuthHeaders } from '../http/auth.js';
import { readHttpConfig } from '../http/config.js';
import type { ToolContext } from '../types.js';
import type { HttpSource, Pagination } from './config.js';
import { valueAt, type Row } from './rows.js';

function rowsOf(body: unknown, dataPath: string | undefined, url: string): Row[] {
  const data = dataPath === undefined ? body : valueAt(body, dataPath);
  if (Array.isArray(data)) return data as Row[];
  if (data === undefined || data === null) return [];
  const keys = data !== null && typeof data === 'object' ? Object.keys(data).slice(0, 10).join(', ') : '';
  throw new ToolError(
    `transfer: the response of ${url} ${dataPath !== undefined ? `has no list at '${dataPath}'` : 'is not a list'}; set 'source.data_path' to the list of rows${keys ? ` (keys: ${keys})` : ''}`,
  );
}

function isRetryable(status: number): boolean {
  return status === 429 || status === 408 || status >= 500;
}

/** Query parameters for page `n` (0-based count of pages fetched so far). */
function pageParams(
  p: Pagination,
  n: number,
  fetched: number,
  cursor: string | undefined,
): [string, string][] {
  const out: [string, string][] = [];
  if (p.type === 'page') out.push([p.param, String(p.start + n)]);
  else if (p.type === 'offset') out.push([p.param, String(p.start + fetched)]);
  else if (cursor !== undefined) out.push([p.param, cursor]);
  if (p.sizeParam !== undefined && p.size !== undefined) out.push([p.sizeParam, String(p.size)]);
  return out;
}

function hasMore(p: Pagination, body: unknown, rows: number): { more: boolean; cursor?: string } {
  if (rows === 0) return { more: false };
  if (p.hasMorePath !== undefined && !valueAt(body, p.hasMorePath)) return { more: false };
  if (p.type === 'cursor') {
    const next = valueAt(body, p.cursorPath ?? '');
    if (next === undefined || next === null || next === '' || next === false) return { more: false };
    return { more: true, cursor: scalarText(next) };
  }
  if (p.size !== undefined && rows < p.size && p.hasMorePath === undefined) return { more: false };
  return { more: true };
}

/**
 * Rows of an HTTP source: one response, or page after page with `pagination` (page number,
 * offset or cursor). Each response is read whole, so memory holds one page (plus the one being
 * written); without pagination the whole response is in memory.
 */
export async function* httpSourceRows(ctx: ToolContext, source: HttpSource): AsyncGenerator<Row[]> {
  const request = readHttpConfig(source.request);
  const headers: Record<string, string> = { Accept: 'application/json', ...request.headers };
  Object.assign(headers, await resolveAuthHeaders(ctx, request.auth));
  let body: string | undefined;
  if (request.body.kind === 'json') {
    body = JSON.stringify(request.body.value);
    headers['Content-Type'] ??= 'application/json';
  } else if (request.body.kind === 'raw') {
    body = request.body.text;
  } else if (request.body.kind === 'form') {
    body = new URLSearchParams(request.body.fields).toString();
    headers['Content-Type'] ??= 'application/x-www-form-urlencoded';
  }
  const p = source.pagination;
  let fetched = 0;
  let cursor: string | undefined;
  for (let n = 0; n < (p?.maxPages ?? 1); n++) {
    const url = new URL(request.url);
    for (const [k, v] of request.params) url.searchParams.append(k, v);
    if (p) for (const [k, v] of pageParams(p, n, fetched, cursor)) url.searchParams.set(k, v);
    const timeout = AbortSignal.timeout(request.timeoutMs);
    let parsed: unknown;
    let status: number;
    try {
      const response = await fetch(url, {
        method: request.method,
        headers,
        signal: AbortSignal.any([ctx.signal, timeout]),
        ...(body !== undefined ? { body } : {}),
      });
      status = response.status;
      const text = await response.text();
      if (status < 200 || status > 299) {
        throw new ToolError(`transfer: source HTTP ${status} response from ${url.origin}${url.pathname}`, {
          retryable: isRetryable(status),
          details: { status, url: `${url.origin}${url.pathname}` },
        });
      }
      parsed = text.trim() === '' ? [] : (JSON.parse(text) as unknown);
    } catch (err) {
      if (err instanceof ToolError) throw err;
      if (ctx.signal.aborted) throw new CancelledError('transfer: cancelled');
      if (timeout.aborted) {
        throw new TimeoutError(
          `transfer: source ${url.origin}${url.pathname} timed out after ${request.timeoutMs / 1000}s`,
        );
      }
      throw new ToolError(
        `transfer: source ${request.method} ${url.origin}${url.pathname} failed: ${errorMessage(err)}`,
        {
          retryable: !(err instanceof SyntaxError),
          cause: err,
        },
      );
    }
    const rows = rowsOf(parsed, source.dataPath, `${url.origin}${url.pathname}`);
    fetched += rows.length;
    if (rows.length > 0) yield rows;
    if (!p) return;
    const next = hasMore(p, parsed, rows.length);
    if (!next.more) return;
    cursor = next.cursor;
  }
}
