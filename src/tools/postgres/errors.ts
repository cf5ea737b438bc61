import { CancelledError, errorMessage, TimeoutError, ToolError } from '../../shared/index.js';

/**
 * Transient failures (STYLE.md 12): SQLSTATE classes and codes worth retrying, and the network
 * errors of a connection that could not be made or was lost.
 */
const RETRYABLE_SQLSTATE_CLASSES = ['08']; // connection exception
const RETRYABLE_SQLSTATES = new Set([
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '53300', // too_many_connections
  '40001', // serialization_failure
  '40P01', // deadlock_detected
]);
const RETRYABLE_NET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'EAI_AGAIN',
]);
const RETRYABLE_MESSAGES = [/connection terminated/i, /timeout exceeded when trying to connect/i];

const QUERY_CANCELED = '57014';

export function isRetryableSqlstate(code: string): boolean {
  return RETRYABLE_SQLSTATES.has(code) || RETRYABLE_SQLSTATE_CLASSES.some((c) => code.startsWith(c));
}

interface PgErrorLike {
  readonly code?: unknown;
  readonly severity?: unknown;
  readonly detail?: unknown;
  readonly hint?: unknown;
  readonly position?: unknown;
  readonly where?: unknown;
  readonly table?: unknown;
  readonly constraint?: unknown;
}

function fields(err: unknown): PgErrorLike {
  return err !== null && typeof err === 'object' ? err : {};
}

/** `code` of an error or of the first error inside an AggregateError (happy eyeballs). */
function netCode(err: unknown): string | undefined {
  const code = fields(err).code;
  if (typeof code === 'string') return code;
  if (err instanceof AggregateError) return netCode(err.errors[0]);
  return undefined;
}

function isSqlstate(code: unknown): code is string {
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code);
}

/**
 * A pg failure as a step error: SQL errors carry `details.sqlstate` (and detail, hint, position);
 * transient ones are retryable. `what` names the tool (`postgres`, `transfer`).
 */
export function pgToolError(
  err: unknown,
  what: string,
  context: { readonly signal?: AbortSignal; readonly timeoutMs?: number } = {},
): Error {
  if (err instanceof ToolError || err instanceof CancelledError || err instanceof TimeoutError) return err;
  const f = fields(err);
  const message = errorMessage(err) || netCode(err) || 'unknown error';
  if (isSqlstate(f.code)) {
    const sqlstate = f.code;
    if (sqlstate === QUERY_CANCELED && context.signal?.aborted)
      return new CancelledError(`${what}: cancelled`);
    const details: Record<string, unknown> = {
      sqlstate,
      ...(typeof f.severity === 'string' ? { severity: f.severity } : {}),
      ...(typeof f.detail === 'string' ? { detail: f.detail } : {}),
      ...(typeof f.hint === 'string' ? { hint: f.hint } : {}),
      ...(typeof f.position === 'string' ? { position: Number(f.position) } : {}),
      ...(typeof f.table === 'string' ? { table: f.table } : {}),
      ...(typeof f.constraint === 'string' ? { constraint: f.constraint } : {}),
    };
    if (sqlstate === QUERY_CANCELED && context.timeoutMs !== undefined) {
      return new TimeoutError(`${what}: statement timed out after ${context.timeoutMs / 1000}s`, {
        details,
        cause: err,
      });
    }
    return new ToolError(`${what}: ${message} (SQLSTATE ${sqlstate})`, {
      retryable: isRetryableSqlstate(sqlstate),
      details,
      cause: err,
    });
  }
  const code = netCode(err);
  const retryable =
    (code !== undefined && RETRYABLE_NET_CODES.has(code)) ||
    RETRYABLE_MESSAGES.some((re) => re.test(message));
  return new ToolError(
    `${what}: ${message}${code !== undefined && !message.includes(code) ? ` (${code})` : ''}`,
    {
      retryable,
      details: code !== undefined ? { code } : {},
      cause: err,
    },
  );
}
