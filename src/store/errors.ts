import { ConflictError, NoetlError, errorMessage } from '../shared/index.js';

/**
 * SQLSTATE codes (and classes) after which the same operation may succeed if tried again:
 * lost connections, server shutdown, serialization failures, deadlocks, resource exhaustion.
 * The table is the only place retry semantics of database errors live (STYLE.md 12).
 */
const RETRYABLE_SQLSTATE_CLASSES = ['08', '53', '57P'] as const;
const RETRYABLE_SQLSTATES = new Set(['40001', '40P01', '55P03', '57014']);
/** Node socket errors seen when PostgreSQL is unreachable or drops the connection. */
const RETRYABLE_NODE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
/** pg client messages for a connection that died under it (no SQLSTATE attached). */
const RETRYABLE_MESSAGES = [
  'Connection terminated',
  'Client has encountered a connection error',
  'timeout exceeded when trying to connect',
  'Client was closed',
];

export function sqlStateOf(error: unknown): string | undefined {
  if (error instanceof NoetlError) return sqlStateOf(error.cause);
  if (error === null || typeof error !== 'object') return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

export function isRetryableDbError(error: unknown): boolean {
  if (error instanceof NoetlError) return error.retryable;
  const code = sqlStateOf(error);
  if (code !== undefined) {
    if (RETRYABLE_SQLSTATES.has(code) || RETRYABLE_NODE_CODES.has(code)) return true;
    if (RETRYABLE_SQLSTATE_CLASSES.some((prefix) => code.startsWith(prefix))) return true;
  }
  const message = errorMessage(error);
  return RETRYABLE_MESSAGES.some((m) => message.includes(m));
}

/** Errors of a connection that was established and then died (server restart, terminated
 * backend, reset socket), as opposed to one that could not be made. */
const LOST_SQLSTATES = new Set(['57P01', '57P02', '57P03', '08003', '08006']);
const LOST_NODE_CODES = new Set(['ECONNRESET', 'EPIPE']);
const LOST_MESSAGES = ['Connection terminated', 'Client has encountered a connection error'];

/**
 * True when a pooled connection died under the statement. The statement may or may not have
 * been committed; callers retry only what is idempotent or was never sent a COMMIT. A refused
 * or timed-out connect is not "lost": retrying it at once would only wait again.
 */
export function isLostConnection(error: unknown): boolean {
  if (error instanceof NoetlError) return error.cause !== undefined && isLostConnection(error.cause);
  const code = sqlStateOf(error);
  if (code !== undefined && (LOST_SQLSTATES.has(code) || LOST_NODE_CODES.has(code))) return true;
  const message = errorMessage(error);
  return LOST_MESSAGES.some((m) => message.includes(m));
}

/** SQLSTATE disk_full: PostgreSQL could not extend a file or write WAL. */
const DISK_FULL = '53100';

/**
 * Maps a driver error to a NoetlError. Data and constraint errors (classes 22, 23) come from
 * input and are BAD_REQUEST, a unique violation is a CONFLICT. `userSql` marks SQL a user sent
 * (`/api/postgres/execute`): its syntax and permission errors are bad input too.
 */
export function toDbError(error: unknown, options: { userSql?: boolean } = {}): NoetlError {
  if (error instanceof NoetlError) return error;
  const sqlstate = sqlStateOf(error);
  const details = sqlstate === undefined ? {} : { sqlstate };
  const message = errorMessage(error);
  if (sqlstate === '23505' && !options.userSql) {
    return new ConflictError(message, { details, cause: error });
  }
  if (sqlstate === DISK_FULL || message.includes('No space left on device')) {
    // A full disk: the write is refused cleanly and may succeed once space is freed.
    return new NoetlError('UNAVAILABLE', `storage full: the database cannot write (${message})`, {
      details: { ...details, reason: 'storage_full' },
      cause: error,
      retryable: true,
    });
  }
  const badInput = options.userSql ? /^(22|23|42|2B|2D|3F|0A|25)/ : /^(22|23)/;
  if (sqlstate !== undefined && badInput.test(sqlstate)) {
    return new NoetlError('BAD_REQUEST', message, { details, cause: error });
  }
  return new NoetlError('DB_ERROR', message, {
    details,
    cause: error,
    retryable: isRetryableDbError(error),
  });
}

/** Errors raised by a driver or a socket (as opposed to a bug or a NoetlError of ours). */
export function isDriverError(error: unknown): boolean {
  return !(error instanceof NoetlError) && (sqlStateOf(error) !== undefined || isRetryableDbError(error));
}
