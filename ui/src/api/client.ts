import { askToken, authHeaders, currentToken } from './token.js';
import type { ApiErrorBody, Json } from './types.js';

/** An error answer of the API, with its stable code. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: Json | undefined;
  constructor(status: number, body: ApiErrorBody) {
    super(body.error ?? `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.code = body.code ?? (status === 404 ? 'NOT_FOUND' : 'HTTP_ERROR');
    this.details = body.details;
  }
  /** The route does not exist on this server (an older noetl-server). */
  get missingRoute(): boolean {
    return this.status === 404 && this.message.startsWith('no route ');
  }
}

export type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

/**
 * One call of the public API. A 401 asks for the token once (shared by concurrent calls) and
 * retries; a 403 says the token is wrong and asks again.
 */
export async function api<T>(method: Method, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  return (await call<T>(method, path, body, signal)).body;
}

/** A GET that also returns the answer's headers (paging cursors). */
export function getWithHeaders<T>(
  path: string,
  signal?: AbortSignal,
): Promise<{ body: T; headers: Headers }> {
  return call<T>('GET', path, undefined, signal);
}

async function call<T>(
  method: Method,
  path: string,
  body: unknown,
  signal: AbortSignal | undefined,
): Promise<{ body: T; headers: Headers }> {
  for (let round = 0; ; round++) {
    const headers: Record<string, string> = { accept: 'application/json', ...authHeaders() };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(path, {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      ...(signal ? { signal } : {}),
    });
    if ((res.status === 401 || res.status === 403) && round < 3) {
      const hadToken = currentToken() !== null;
      if (await askToken(res.status === 403 || hadToken)) continue;
    }
    const text = await res.text();
    let parsed: unknown = null;
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = { error: text.slice(0, 200) };
      }
    }
    if (!res.ok) throw new ApiError(res.status, parsed ?? {});
    return { body: parsed as T, headers: res.headers };
  }
}

export const get = <T>(path: string, signal?: AbortSignal): Promise<T> =>
  api<T>('GET', path, undefined, signal);
export const post = <T>(path: string, body: unknown = {}): Promise<T> => api<T>('POST', path, body);

/** `?a=1&b=2` from the defined, non-empty values. */
export function query(params: Record<string, string | number | null | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params))
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

export function errorText(err: unknown): string {
  if (err instanceof ApiError) return `${err.code}: ${err.message}`;
  if (err instanceof Error) return err.message;
  return String(err);
}
