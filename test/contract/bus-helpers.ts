// Helpers for the bus tests: wait on conditions, never on fixed sleeps (STYLE.md 20).
import type { CommandNotification } from '../../src/bus/index.js';

export interface Deferred<T = void> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Polls `predicate` until true; fails with `what` after `timeoutMs`. */
export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  what: string | (() => string),
  timeoutMs = 5_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await predicate()) return;
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`,
      );
    }
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * A fixed wait, for the few places where the time itself is the point: a heartbeat interval, or a
 * short window in which something must not happen. "Not redelivered" is proven by the harness's
 * `idle` (nothing unsettled), not by waiting out the ack wait.
 */
export function quietPeriod(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

// 19- and 21-digit ids: far above 2^53 (9007199254740992), where a JS number loses digits.
export const BIG_EXECUTION_ID = '9223372036854775807';
export const BIG_EVENT_ID = '589123456789012345678';

let counter = 0;

/** A notification with unique ids; `n` also names its step. */
export function note(overrides: Partial<CommandNotification> = {}): CommandNotification {
  counter++;
  const executionId = overrides.execution_id ?? `58912345678901${String(1000 + counter).padStart(5, '0')}`;
  const eventId = overrides.event_id ?? `58912345678902${String(1000 + counter).padStart(5, '0')}`;
  return {
    execution_id: executionId,
    event_id: eventId,
    command_id: `${executionId}:step_${counter}:${eventId}`,
    step: `step_${counter}`,
    server_url: 'http://127.0.0.1:8082',
    execution_pool: '',
    ...overrides,
  };
}
