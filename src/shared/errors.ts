/**
 * One error hierarchy with stable codes (STYLE.md 11-13). Codes are documented in docs/errors.md;
 * a test keeps the two in step.
 */
export const ERROR_CODES = [
  // usage and input
  'USAGE',
  'FILE_NOT_FOUND',
  'YAML_SYNTAX',
  'PLAYBOOK_INVALID',
  'PLAYBOOK_TOO_LARGE',
  'CONFIG_INVALID',
  // templates
  'TEMPLATE_SYNTAX',
  'TEMPLATE_RENDER',
  // execution
  'TOOL_FAILED',
  'TOOL_TIMEOUT',
  'TOOL_UNSUPPORTED',
  'STEP_FAILED',
  'LOOP_NOT_ITERABLE',
  'STEP_BUDGET_EXCEEDED',
  'RESULT_TOO_LARGE',
  'CANCELLED',
  'CREDENTIAL_NOT_FOUND',
  'CREDENTIAL_UNSUPPORTED',
  // server / store / bus
  'NOT_FOUND',
  'CONFLICT',
  'BAD_REQUEST',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'UNAVAILABLE',
  'DB_ERROR',
  'BUS_ERROR',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ErrorData {
  readonly name: string;
  readonly code: ErrorCode;
  readonly message: string;
  readonly retryable: boolean;
  readonly details?: Readonly<Record<string, unknown>>;
}

export interface NoetlErrorOptions {
  readonly details?: Readonly<Record<string, unknown>>;
  readonly cause?: unknown;
  readonly retryable?: boolean;
}

export class NoetlError extends Error {
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>> | undefined;
  readonly retryable: boolean;

  constructor(code: ErrorCode, message: string, options: NoetlErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'NoetlError';
    this.code = code;
    this.details = options.details;
    this.retryable = options.retryable ?? false;
  }

  toJSON(): ErrorData {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      retryable: this.retryable,
      ...(this.details ? { details: this.details } : {}),
    };
  }
}

export class ValidationError extends NoetlError {
  constructor(message: string, options: NoetlErrorOptions = {}) {
    super('PLAYBOOK_INVALID', message, options);
    this.name = 'ValidationError';
  }
}

export class NotFoundError extends NoetlError {
  constructor(message: string, options: NoetlErrorOptions = {}) {
    super('NOT_FOUND', message, options);
    this.name = 'NotFoundError';
  }
}

export class ConflictError extends NoetlError {
  constructor(message: string, options: NoetlErrorOptions = {}) {
    super('CONFLICT', message, options);
    this.name = 'ConflictError';
  }
}

export class ToolError extends NoetlError {
  constructor(message: string, options: NoetlErrorOptions & { code?: ErrorCode } = {}) {
    super(options.code ?? 'TOOL_FAILED', message, options);
    this.name = 'ToolError';
  }
}

export class TimeoutError extends NoetlError {
  constructor(message: string, options: NoetlErrorOptions = {}) {
    super('TOOL_TIMEOUT', message, { retryable: true, ...options });
    this.name = 'TimeoutError';
  }
}

export class CancelledError extends NoetlError {
  constructor(message = 'cancelled', options: NoetlErrorOptions = {}) {
    super('CANCELLED', message, options);
    this.name = 'CancelledError';
  }
}

export class ConfigError extends NoetlError {
  constructor(message: string, options: NoetlErrorOptions = {}) {
    super('CONFIG_INVALID', message, options);
    this.name = 'ConfigError';
  }
}

export function isNoetlError(value: unknown): value is NoetlError {
  return value instanceof NoetlError;
}

/** The message of anything thrown, without a stack. */
export function errorMessage(value: unknown): string {
  if (value instanceof Error) return value.message;
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

/** Wraps anything thrown into a NoetlError, keeping the original as `cause`. */
export function toNoetlError(value: unknown, fallback: ErrorCode = 'INTERNAL'): NoetlError {
  if (value instanceof NoetlError) return value;
  return new NoetlError(fallback, errorMessage(value), { cause: value });
}
