import type { ExecutionEvent } from '../engine/index.js';
import {
  isPlainObject,
  REDACTED,
  redactSecretText,
  redactSecretValues,
  scrubSecrets,
  type SecretValues,
} from '../shared/index.js';

/** Keychain entry keys that describe the entry and are kept as written. */
const KEYCHAIN_META = new Set(['name', 'kind', 'scope', 'provider', 'auth', 'credential', 'region']);

/** Literal values of a keychain definition become `***`; templates (`{{ ... }}`) stay. */
function redactLiterals(value: unknown): unknown {
  if (typeof value === 'string') return value.includes('{{') || value.includes('{%') ? value : REDACTED;
  if (Array.isArray(value)) return value.map(redactLiterals);
  if (isPlainObject(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactLiterals(v)]));
  }
  return value === null || value === undefined ? value : REDACTED;
}

function redactKeychain(entries: unknown): unknown {
  if (!Array.isArray(entries)) return entries;
  return entries.map((entry: unknown) => {
    if (!isPlainObject(entry) || !isPlainObject(entry.fields)) return entry;
    const fields = Object.fromEntries(
      Object.entries(entry.fields).map(([k, v]) => [k, KEYCHAIN_META.has(k) ? v : redactLiterals(v)]),
    );
    return { ...entry, fields };
  });
}

/**
 * The copy of an event that is stored or printed: `result`, `meta` and `error` scrubbed of
 * secret-looking keys and known secret values; `context` (tool configs, unrendered, and render
 * contexts) scrubbed of known values only, with the literals of keychain definitions hidden.
 */
export function scrubEvent(event: ExecutionEvent, secrets?: SecretValues): ExecutionEvent {
  const context = event.context;
  let storedContext = context === undefined ? undefined : redactSecretValues(context, secrets);
  if (storedContext && storedContext['keychain'] !== undefined) {
    storedContext = { ...storedContext, keychain: redactKeychain(storedContext['keychain']) };
  }
  const result = event.result !== undefined ? scrubSecrets(event.result, secrets) : undefined;
  const meta = event.meta !== undefined ? scrubSecrets(event.meta, secrets) : undefined;
  const error = event.error !== undefined ? redactSecretText(event.error, secrets) : undefined;
  // Nothing to hide (the scrubs share unchanged parts): the event itself is its stored copy.
  if (storedContext === context && result === event.result && meta === event.meta && error === event.error)
    return event;
  return {
    ...event,
    ...(storedContext !== undefined ? { context: storedContext } : {}),
    ...(result !== undefined ? { result } : {}),
    ...(meta !== undefined ? { meta } : {}),
    ...(error !== undefined ? { error } : {}),
  };
}
