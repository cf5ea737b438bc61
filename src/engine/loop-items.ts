import { NoetlError } from '../shared/index.js';

/**
 * Iterations of a parallel loop in flight when the loop gives no `max_in_flight` (docs/dsl.md):
 * issuing every iteration at once made a 20,000-item loop write 20,000 commands in the execute
 * transaction and block the server for minutes; this many keep workers busy and the log small.
 */
export const DEFAULT_MAX_IN_FLIGHT = 100;

/**
 * The collection a loop iterates (contract 1.8): an array; an object as `{key, value}` pairs; a
 * JSON-array string; another string split on commas or newlines; a number N as 0..N-1.
 */
export function toIterable(value: unknown, step: string): unknown[] {
  if (Array.isArray(value)) return value;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) {
    return Array.from({ length: value }, (_, i) => i);
  }
  if (typeof value === 'string') {
    const t = value.trim();
    if (t.startsWith('[')) {
      try {
        const parsed = JSON.parse(t) as unknown;
        if (Array.isArray(parsed)) return parsed;
      } catch {
        // fall through to splitting
      }
    }
    if (t === '') return [];
    return t
      .split(/[,\n]/)
      .map((part) => part.trim())
      .filter((part) => part !== '');
  }
  if (value !== null && typeof value === 'object') {
    return Object.entries(value as Record<string, unknown>).map(([key, v]) => ({ key, value: v }));
  }
  const got = value === null || value === undefined ? 'null' : typeof value;
  throw new NoetlError(
    'LOOP_NOT_ITERABLE',
    `loop step '${step}': the loop expression did not evaluate to an iterable (got ${got})`,
  );
}
