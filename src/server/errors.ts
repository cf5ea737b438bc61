import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { NoetlError, errorMessage } from '../shared/index.js';
import type { ErrorCode } from '../shared/index.js';

/**
 * The one place errors become HTTP answers (STYLE.md 13). Every error body is
 * `{error, status, code}` (+ `details` for 4xx that carry some, e.g. playbook diagnostics).
 * Bad input is always 4xx; 500 is kept for real faults, which are logged with their stack.
 */

export interface ErrorBody {
  readonly error: string;
  readonly status: number;
  readonly code: ErrorCode;
  readonly details?: Readonly<Record<string, unknown>>;
}

/** HTTP status of each error code; a new code must be given one here (the Record enforces it). */
export const HTTP_STATUS_OF: Readonly<Record<ErrorCode, number>> = {
  USAGE: 400,
  FILE_NOT_FOUND: 404,
  YAML_SYNTAX: 400,
  PLAYBOOK_INVALID: 422,
  PLAYBOOK_TOO_LARGE: 422,
  CONFIG_INVALID: 400,
  TEMPLATE_SYNTAX: 422,
  TEMPLATE_RENDER: 422,
  TOOL_FAILED: 502,
  TOOL_TIMEOUT: 504,
  TOOL_UNSUPPORTED: 422,
  STEP_FAILED: 422,
  LOOP_NOT_ITERABLE: 422,
  STEP_BUDGET_EXCEEDED: 422,
  RESULT_TOO_LARGE: 413,
  CANCELLED: 409,
  CREDENTIAL_NOT_FOUND: 404,
  CREDENTIAL_UNSUPPORTED: 422,
  NOT_FOUND: 404,
  CONFLICT: 409,
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  UNAVAILABLE: 503,
  DB_ERROR: 500,
  BUS_ERROR: 503,
  INTERNAL: 500,
};

/** Error code of a bare HTTP status (errors fastify raises itself). */
function codeOfStatus(status: number): ErrorCode {
  switch (status) {
    case 401:
      return 'UNAUTHORIZED';
    case 403:
      return 'FORBIDDEN';
    case 404:
      return 'NOT_FOUND';
    case 409:
      return 'CONFLICT';
    case 413:
      return 'PAYLOAD_TOO_LARGE';
    case 415:
      return 'UNSUPPORTED_MEDIA_TYPE';
    case 503:
      return 'UNAVAILABLE';
    default:
      return status >= 500 ? 'INTERNAL' : 'BAD_REQUEST';
  }
}

function isFastifyError(error: unknown): error is FastifyError {
  return error instanceof Error && ('statusCode' in error || 'validation' in error || 'code' in error);
}

/** Maps anything thrown to the status and body sent; pure, for the handler and for tests. */
export function toErrorBody(error: unknown): ErrorBody {
  if (error instanceof NoetlError) {
    let status = HTTP_STATUS_OF[error.code];
    // A database that is down (retryable) is "try again later", not a bug.
    if (error.code === 'DB_ERROR' && error.retryable) status = 503;
    const details = status < 500 ? error.details : undefined;
    return {
      error: error.message,
      status,
      code: status === 503 && error.code === 'DB_ERROR' ? 'UNAVAILABLE' : error.code,
      ...(details === undefined ? {} : { details }),
    };
  }
  if (isFastifyError(error)) {
    if (error.validation !== undefined) {
      return { error: error.message, status: 400, code: 'BAD_REQUEST' };
    }
    const status = typeof error.statusCode === 'number' ? error.statusCode : 500;
    if (status >= 400 && status < 500) {
      return { error: error.message, status, code: codeOfStatus(status) };
    }
    if (status === 503) return { error: error.message, status, code: 'UNAVAILABLE' };
  }
  return { error: 'internal server error', status: 500, code: 'INTERNAL' };
}

export function sendError(reply: FastifyReply, body: ErrorBody): FastifyReply {
  return reply.code(body.status).type('application/json; charset=utf-8').send(body);
}

/** Installs the error, not-found and framework-error handlers on the root instance. */
export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const body = toErrorBody(error);
    if (body.status >= 500) {
      const fault = body.code === 'INTERNAL' || body.code === 'DB_ERROR';
      request.log[fault ? 'error' : 'warn'](
        { err: error, route: request.routeOptions.url, method: request.method },
        `request failed: ${errorMessage(error)}`,
      );
      if (body.code === 'INTERNAL') {
        return sendError(reply, { ...body, error: `internal server error (request ${request.id})` });
      }
    } else {
      request.log.debug(
        { code: body.code, status: body.status, route: request.routeOptions.url },
        body.error,
      );
    }
    return sendError(reply, body);
  });
  app.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) =>
    sendError(reply, {
      error: `no route ${request.method} ${request.url.split('?')[0] ?? ''}`,
      status: 404,
      code: 'NOT_FOUND',
    }),
  );
}
