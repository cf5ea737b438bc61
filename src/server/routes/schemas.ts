import { NoetlError } from '../../shared/index.js';

/**
 * JSON Schema fragments shared by routes. Bodies are validated without type coercion (see
 * query-coercion.ts); ids travel as decimal strings, and are accepted as JSON numbers too (the
 * body parser keeps big ones exact).
 */

export const ID_PATTERN = '^[0-9]{1,19}$';

export const idString = {
  type: 'string',
  pattern: ID_PATTERN,
  description: 'snowflake id as a decimal string',
} as const;

/** An id in a request body: decimal string or (safe) integer. */
export const idInput = {
  anyOf: [idString, { type: 'integer', minimum: 0 }],
} as const;

export const nonEmptyString = { type: 'string', minLength: 1, maxLength: 1024 } as const;

export const jsonObject = { type: 'object', additionalProperties: true } as const;

/** Any JSON value. */
export const anyJson = {} as const;

export const errorBody = {
  type: 'object',
  properties: {
    error: { type: 'string' },
    status: { type: 'integer' },
    code: { type: 'string' },
  },
} as const;

/** Normalises a body id (string or number) to its decimal string. */
export function toId(value: string | number, field: string): string {
  const text = typeof value === 'number' ? String(value) : value.trim();
  if (!/^[0-9]{1,19}$/.test(text) || BigInt(text) > 9223372036854775807n) {
    throw new NoetlError('BAD_REQUEST', `${field} must be a snowflake id (decimal digits), got '${text}'`);
  }
  return text;
}

/** A route param or query id, checked the same way. */
export function checkId(value: string, field: string): string {
  return toId(value, field);
}
