import { errorMessage, NoetlError, ToolError } from '../../shared/index.js';

/**
 * Failures that pass once the server is back (STYLE.md 12): a table of error names, not scattered
 * `if`s. Names, not classes, so this file loads no NATS module.
 */
const RETRYABLE_ERROR_NAMES: ReadonlySet<string> = new Set([
  'TimeoutError', // request timed out (server restarting, slow disk)
  'ConnectionError', // refused or dropped connection
  'RequestError', // request cancelled by a disconnect
  'DrainingConnectionError',
  'ClosedConnectionError', // the cached connection closed under the request
]);

/** JetStream API / status codes meaning "try again": 503 unavailable, 408 request timeout. */
const RETRYABLE_STATUS: ReadonlySet<number> = new Set([408, 503]);

/** Node socket errors seen while the server is down or unreachable. */
const RETRYABLE_SYSCALL_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

export function isRetryableNatsError(err: unknown, depth = 0): boolean {
  if (!(err instanceof Error) || depth > 4) return false;
  if (RETRYABLE_ERROR_NAMES.has(err.name)) return true;
  const { status, code } = err as Error & { status?: unknown; code?: unknown };
  if (typeof status === 'number' && RETRYABLE_STATUS.has(status)) return true;
  if (typeof code === 'string' && RETRYABLE_SYSCALL_CODES.has(code)) return true;
  return err.cause !== undefined && err.cause !== err && isRetryableNatsError(err.cause, depth + 1);
}

/** `StreamNotFoundError`, `ConsumerNotFoundError` and JetStream API code 10059 / 10014. */
export function isNotFoundError(err: unknown, what: 'stream' | 'consumer' | 'any' = 'any'): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as Error & { code?: unknown }).code;
  const stream = err.name === 'StreamNotFoundError' || code === 10059;
  const consumer = err.name === 'ConsumerNotFoundError' || code === 10014;
  if (what === 'stream') return stream;
  if (what === 'consumer') return consumer;
  return stream || consumer || /\bnot found\b/i.test(err.message);
}

/** Any failure of an operation as a ToolError naming the operation; NoetlErrors pass through. */
export function natsError(what: string, err: unknown, details: Record<string, unknown> = {}): NoetlError {
  if (err instanceof NoetlError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  const cause =
    err instanceof Error && err.cause instanceof Error && err.cause.message !== err.message
      ? ` (${err.cause.message})`
      : '';
  return new ToolError(`nats: ${what}: ${errorMessage(err)}${cause}`, {
    retryable: isRetryableNatsError(err),
    cause: err,
    details: {
      ...details,
      ...(err instanceof Error ? { nats_error: err.name } : {}),
      ...(typeof code === 'number' || typeof code === 'string' ? { nats_code: code } : {}),
    },
  });
}

/** A ToolError for a bucket, stream or consumer that does not exist (not retryable). */
export function missingError(what: string, details: Record<string, unknown>): ToolError {
  return new ToolError(`nats: ${what} not found`, { details });
}
