import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';
import type { LogLevel } from '../config/index.js';
import { formatDestination, type LogFormat } from '../worker/index.js';

/**
 * Paths pino blanks out of every log line (STYLE.md 16): credentials, tokens and keys must never
 * reach a log, whatever object is logged. Shallow paths cover objects logged whole; `*.x` one level
 * down (a request body, a config, a credential record).
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'headers.authorization',
  'headers.cookie',
  'authorization',
  'data',
  'password',
  'token',
  'secret',
  'apiToken',
  'internalApiToken',
  'encryptionKey',
  'key',
  'body',
  'dataEncrypted',
  'data_encrypted',
  'renew_config',
  '*.data',
  '*.password',
  '*.token',
  '*.secret',
  '*.apiToken',
  '*.internalApiToken',
  '*.encryptionKey',
  '*.dataEncrypted',
  '*.data_encrypted',
  '*.authorization',
  '*.renew_config',
  '*.body',
] as const;

export interface ServerLoggerOptions {
  readonly level: LogLevel;
  readonly name?: string;
  /** Where lines go (default stdout); tests pass a stream to read them. */
  readonly destination?: DestinationStream;
  /** `NOETL_LOG_FORMAT`: JSON lines (default when stdout is not a terminal) or pretty text. */
  readonly format?: LogFormat;
  /** Whether the destination is a terminal (`auto` is pretty there); default: stdout's. */
  readonly isTTY?: boolean;
}

/**
 * The server's one pino logger: JSON lines (or pretty text, NOETL_LOG_FORMAT), ISO times, secrets
 * redacted. Lines about one execution carry `execution_id`, `step` and `command_id` (child loggers).
 */
export function createServerLogger(options: ServerLoggerOptions): PinoLogger {
  const pinoOptions = {
    level: options.level,
    name: options.name ?? 'noetl-server',
    redact: { paths: [...REDACT_PATHS], censor: '***' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  const out = options.destination ?? stdoutDestination();
  return pino(
    pinoOptions,
    formatDestination(
      options.format ?? 'auto',
      out,
      options.isTTY ?? (options.destination === undefined && process.stdout.isTTY === true),
    ),
  );
}

/** Log bytes kept while stdout cannot be written (a full disk); older lines beyond are dropped. */
const MAX_PENDING_LOG_BYTES = 1024 * 1024;

/**
 * pino's default stdout, except that a failed write (ENOSPC when the log file's disk is full)
 * neither crashes the process (pino re-emits it as an unhandled 'error') nor blocks it: the
 * lines wait, up to a bound, and go out with the next write that succeeds.
 */
function stdoutDestination(): DestinationStream {
  const destination = pino.destination({ dest: 1, sync: true, maxLength: MAX_PENDING_LOG_BYTES });
  destination.on('error', () => undefined);
  return destination;
}
