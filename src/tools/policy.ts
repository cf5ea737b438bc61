import type { Policy, PolicyRule, PolicyThen } from '../dsl/index.js';
import { CancelledError } from '../shared/index.js';
import type { TemplateRenderer, TemplateScope } from '../template/index.js';

/** Labels meaning "the task before this one" in a `jump`. */
export const PREVIOUS_LABELS: ReadonlySet<string> = new Set(['previous', 'prev', '_previous', '@previous']);

export const DEFAULT_RETRY_ATTEMPTS = 3;
const DEFAULT_DELAY_SECONDS = 1.0;

/** The first rule of `policy` that matches; `else` and an absent `when` always match. */
export function matchRule(
  policy: Policy | undefined,
  templates: TemplateRenderer,
  scope: TemplateScope,
): PolicyRule | undefined {
  if (!policy) return undefined;
  for (const rule of policy.rules) {
    if (rule.isElse || rule.when === undefined) return rule;
    if (templates.condition(rule.when, scope)) return rule;
  }
  return undefined;
}

/** Delay before the retry that follows failed `attempt` (1-based), in milliseconds. */
export function backoffMs(then: PolicyThen, attempt: number): number {
  const delay = then.delay ?? DEFAULT_DELAY_SECONDS;
  return Math.max(0, Math.round(backoffSeconds(then.backoff, delay, attempt) * 1000));
}

function backoffSeconds(backoff: PolicyThen['backoff'], delay: number, attempt: number): number {
  switch (backoff) {
    case 'none':
      return 0;
    case 'linear':
      return delay * attempt;
    case 'exponential':
      return delay * 2 ** (attempt - 1);
    case 'fixed':
    case undefined:
    default:
      // fixed, absent, or an unknown name: a constant delay.
      return delay;
  }
}

/** Real-time sleep that ends early with CancelledError when `signal` aborts. */
export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(new CancelledError());
  if (ms <= 0) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new CancelledError());
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
