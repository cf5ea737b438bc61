import { NoetlError, errorMessage } from '../../shared/index.js';

/**
 * Failures that pass once the server is back or JetStream settles (STYLE.md 12): a table of
 * error names, not scattered `if`s. Names, not classes, so this file loads no NATS module.
 */
const RETRYABLE_ERROR_NAMES: ReadonlySet<string> = new Set([
  'TimeoutError', // request or publish ack timed out (server restarting, slow disk)
  'NoResponders', // no JetStream responder yet (server starting, stream leader moving)
  'NoRespondersError',
  'ConnectionError', // refused or dropped connection
  'RequestError', // request cancelled by a disconnect
  'DrainingConnectionError', // connection being drained by a reconnect
]);

/** JetStream API / status codes meaning "try again": 503 unavailable, 408 request timeout. */
const RETRYABLE_STATUS = new Set([408, 503]);

/** Node socket errors seen while the server is down. */
const RETRYABLE_SYSCALL_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH']);

export function isRetryableNatsError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err.name === 'ClosedConnectionError') return false;
  if (RETRYABLE_ERROR_NAMES.has(err.name)) return true;
  const { status, code } = err as Error & { status?: unknown; code?: unknown };
  if (typeof status === 'number' && RETRYABLE_STATUS.has(status)) return true;
  if (typeof code === 'number' && RETRYABLE_STATUS.has(code)) return true;
  if (typeof code === 'string' && RETRYABLE_SYSCALL_CODES.has(code)) return true;
  return err.cause !== undefined && err.cause !== err && isRetryableNatsError(err.cause);
}

export function isClosedConnectionError(err: unknown): boolean {
  return err instanceof Error && err.name === 'ClosedConnectionError';
}

export function busError(what: string, err: unknown, details: Record<string, unknown> = {}): NoetlError {
  if (err instanceof NoetlError) return err;
  return new NoetlError('BUS_ERROR', `${what}: ${errorMessage(err)}`, {
    cause: err,
    retryable: isRetryableNatsError(err),
    details,
  });
}
