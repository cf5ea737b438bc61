import { isPlainObject, type NoetlError } from '../shared/index.js';

/**
 * `output.error` as a policy rule sees it, classified the way NoETL classifies tool errors so a
 * rule can match on stable fields instead of message text:
 * `when: "{{ output.error.kind == 'server_error' }}"`.
 */
export interface ErrorOutput {
  /** server_error, client_error, rate_limit, auth, not_found, timeout, connection, validation,
   * parse, schema, db_deadlock, db_constraint, db_connection, db_timeout or unknown. */
  readonly kind: string;
  /** NoETL's tool-specific code: HTTP_503, PG_40P01, PY_ValueError, CONN_REFUSED, ... or ours. */
  readonly code: string;
  /** This implementation's stable error code (docs/errors.md), e.g. TOOL_FAILED. */
  readonly error_code: string;
  readonly message: string;
  readonly retryable: boolean;
  /** The tool kind that failed. */
  readonly source: string;
  readonly http_status?: number;
  /** Seconds from the response's Retry-After header, when it is a whole number. */
  readonly retry_after?: number;
  readonly pg_code?: string;
  readonly exception_type?: string;
}

type Classified = Pick<ErrorOutput, 'kind' | 'code'> &
  Partial<Pick<ErrorOutput, 'http_status' | 'retry_after' | 'pg_code' | 'exception_type'>>;

export function classifyError(error: NoetlError, source: string): ErrorOutput {
  const c = classify(error, source);
  return {
    ...c,
    error_code: error.code,
    message: error.message,
    retryable: error.retryable,
    source,
  };
}

function classify(error: NoetlError, source: string): Classified {
  const details = error.details ?? {};
  if (error.code === 'TOOL_TIMEOUT') return { kind: 'timeout', code: timeoutCode(source) };
  if (
    error.code === 'CONFIG_INVALID' ||
    error.code === 'TEMPLATE_RENDER' ||
    error.code === 'TEMPLATE_SYNTAX'
  ) {
    return { kind: 'validation', code: error.code };
  }
  if (error.code === 'CREDENTIAL_NOT_FOUND' || error.code === 'CREDENTIAL_UNSUPPORTED') {
    return { kind: 'auth', code: error.code };
  }
  const status = httpStatus(details);
  if (status !== undefined) return httpKind(status, retryAfter(details));
  const sqlstate = typeof details['sqlstate'] === 'string' ? details['sqlstate'] : undefined;
  if (sqlstate !== undefined) return { ...pgKind(sqlstate, error.message), pg_code: sqlstate };
  const exception = typeof details['exception'] === 'string' ? details['exception'] : undefined;
  if (exception !== undefined) return { ...pythonKind(exception, error.message), exception_type: exception };
  const text = error.message.toLowerCase();
  if (source === 'postgres' || source === 'transfer') {
    if (/connect|econnrefused|enotfound|terminat/.test(text))
      return { kind: 'db_connection', code: 'PG_UNKNOWN' };
  }
  if (
    typeof details['url'] === 'string' ||
    /econnrefused|enotfound|econnreset|fetch failed|socket/.test(text)
  ) {
    if (text.includes('timeout')) return { kind: 'timeout', code: 'CONN_TIMEOUT' };
    if (/refused/.test(text)) return { kind: 'connection', code: 'CONN_REFUSED' };
    if (/enotfound|dns|resolve/.test(text)) return { kind: 'connection', code: 'DNS_ERROR' };
    return { kind: 'connection', code: 'CONN_ERROR' };
  }
  return { kind: 'unknown', code: error.code };
}

function timeoutCode(source: string): string {
  if (source === 'postgres') return 'PG_57014';
  if (source === 'http') return 'CONN_TIMEOUT';
  return 'TIMEOUT';
}

function httpStatus(details: Readonly<Record<string, unknown>>): number | undefined {
  const extra = details['extra'];
  const http = isPlainObject(extra) ? extra['http'] : undefined;
  if (isPlainObject(http) && typeof http['status'] === 'number') return http['status'];
  const data = details['data'];
  if (isPlainObject(data) && typeof data['status_code'] === 'number') return data['status_code'];
  return undefined;
}

function retryAfter(details: Readonly<Record<string, unknown>>): number | undefined {
  const data = details['data'];
  const headers = isPlainObject(data) ? data['headers'] : undefined;
  if (!isPlainObject(headers)) return undefined;
  const value = headers['retry-after'] ?? headers['Retry-After'];
  const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : '';
  return /^\d+$/.test(text) ? Number(text) : undefined;
}

function httpKind(status: number, after: number | undefined): Classified {
  const base = { code: `HTTP_${status}`, http_status: status };
  const withAfter = after !== undefined ? { retry_after: after } : {};
  if (status === 429) return { kind: 'rate_limit', ...base, ...withAfter };
  if (status === 401 || status === 403) return { kind: 'auth', ...base };
  if (status === 404) return { kind: 'not_found', ...base };
  if (status >= 400 && status < 500) return { kind: 'client_error', ...base };
  if (status >= 500) return { kind: 'server_error', ...base, ...withAfter };
  return { kind: 'unknown', ...base };
}

function pgKind(sqlstate: string, message: string): Classified {
  const code = `PG_${sqlstate}`;
  const text = message.toLowerCase();
  if (sqlstate === '40001' || sqlstate === '40P01' || text.includes('deadlock'))
    return { kind: 'db_deadlock', code };
  if (sqlstate.startsWith('23')) return { kind: 'db_constraint', code };
  if (sqlstate.startsWith('08')) return { kind: 'db_connection', code };
  if (sqlstate === '57014') return { kind: 'db_timeout', code };
  if (sqlstate === '28000' || sqlstate === '28P01' || sqlstate === '42501') return { kind: 'auth', code };
  if (sqlstate.startsWith('42') || sqlstate.startsWith('22')) return { kind: 'validation', code };
  return { kind: 'unknown', code };
}

function pythonKind(exception: string, message: string): Classified {
  const code = `PY_${exception}`;
  const text = message.toLowerCase();
  if (exception === 'JSONDecodeError' || text.includes('json')) return { kind: 'parse', code };
  if (['TypeError', 'ValueError', 'ValidationError', 'KeyError', 'IndexError'].includes(exception)) {
    return { kind: 'schema', code };
  }
  if (exception === 'TimeoutError' || text.includes('timeout')) return { kind: 'timeout', code };
  if (exception === 'ConnectionError' || exception === 'ConnectionRefusedError')
    return { kind: 'connection', code };
  return { kind: 'unknown', code };
}
