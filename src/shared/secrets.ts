/**
 * Keeping secrets out of stored and printed copies (STYLE.md 16, contract 9). Two rules:
 * - by value (`redactSecretValues`, `SecretRegistry.redact`): the known secret values of a run
 *   (resolved credential fields, keychain values: a password a tool echoes on stdout) become
 *   `***` before anything is stored, posted or logged;
 * - by key name (`scrubSecrets`): values under secret-looking keys also become `***`. This is a
 *   display rule only (read routes, CLI output, logs, the local JSONL log): never applied to
 *   the state a server stores and replays, so the data a step hands the next is the same live
 *   and after a restart.
 * Tools and templates always see real values.
 */

export const REDACTED = '***';

/** Words that make a key secret on their own (`db_password`, `client_secret`, `X-Auth-Token`). */
const SECRET_WORDS = new Set([
  'password',
  'passwd',
  'pwd',
  'passphrase',
  'secret',
  'token',
  'apikey',
  'authorization',
  'cookie',
  'credentials',
  'dsn',
]);

/** Word pairs that make a key secret (`api_key`, `private_key`, `encryption_key`, `accessKey`). */
const SECRET_PAIRS = new Set([
  'api key',
  'private key',
  'encryption key',
  'access key',
  'secret key',
  'signing key',
  'session key',
  'connection string',
]);

const keyCache = new Map<string, boolean>();

function keyWords(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w !== '');
}

/**
 * Whether a map key names a secret. Words are compared whole (`snake_case`, `kebab-case` and
 * `camelCase` split), so `access_token` and `X-API-Key` are secret but `total_tokens` is not.
 */
export function isSecretKey(key: string): boolean {
  const hit = keyCache.get(key);
  if (hit !== undefined) return hit;
  const words = keyWords(key);
  let secret = words.some((w) => SECRET_WORDS.has(w));
  for (let i = 0; !secret && i + 1 < words.length; i++) {
    secret = SECRET_PAIRS.has(`${words[i]} ${words[i + 1]}`);
  }
  if (keyCache.size < 10_000) keyCache.set(key, secret);
  return secret;
}

/** `scheme://user:password@host` -> `scheme://user:***@host`. */
const URL_PASSWORD_RE = /(\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:)([^\s@/]+)(@)/gi;

/** Shortest value replaced by value: shorter ones would garble every log line they occur in. */
export const MIN_SECRET_LENGTH = 4;

/**
 * The secret values of one run (resolved credential passwords and tokens, keychain values). Hosts
 * create one per run and pass it to tools as `services.secrets`; whatever registers a secret
 * (credential resolution, keychain resolution) adds it here, and every stored or printed copy is
 * redacted with it.
 */
export class SecretRegistry {
  private readonly known = new Set<string>();
  private sorted: string[] | undefined;

  /** Registers a secret value (strings and numbers; shorter than MIN_SECRET_LENGTH ignored). */
  add(value: unknown): void {
    const text = typeof value === 'number' || typeof value === 'bigint' ? String(value) : value;
    if (typeof text !== 'string' || text.length < MIN_SECRET_LENGTH || this.known.has(text)) return;
    this.known.add(text);
    // JSON-escaped form too, for secrets with quotes or backslashes inside already-serialised text.
    const escaped = JSON.stringify(text).slice(1, -1);
    if (escaped !== text) this.known.add(escaped);
    this.sorted = undefined;
  }

  /** Registers every leaf value of a map or list (keychain entries: all their values are secret). */
  addAll(value: unknown): void {
    if (Array.isArray(value)) for (const v of value) this.addAll(v);
    else if (value !== null && typeof value === 'object')
      for (const v of Object.values(value)) this.addAll(v);
    else this.add(value);
  }

  /** Registers the values under secret-looking keys of a map (credential `data`), recursively. */
  addSecretFields(value: unknown): void {
    if (Array.isArray(value)) {
      for (const v of value) this.addSecretFields(v);
    } else if (value !== null && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) {
        if (isSecretKey(k)) this.addAll(v);
        else this.addSecretFields(v);
      }
    }
  }

  get size(): number {
    return this.known.size;
  }

  /** The registered values, longest first (so a secret containing another is replaced whole). */
  values(): readonly string[] {
    this.sorted ??= [...this.known].sort((a, b) => b.length - a.length);
    return this.sorted;
  }

  /** `text` with every registered value replaced by `***`. */
  redact(text: string): string {
    return redactText(text, this.values());
  }
}

/** Known secret values: a registry or a plain list. */
export type SecretValues = SecretRegistry | readonly string[];

function valuesOf(secrets: SecretValues | undefined): readonly string[] {
  if (!secrets) return [];
  return secrets instanceof SecretRegistry ? secrets.values() : secrets;
}

function redactText(text: string, values: readonly string[]): string {
  if (values.length === 0 && !text.includes('://')) return text;
  let out = text.includes('://') ? text.replace(URL_PASSWORD_RE, `$1${REDACTED}$3`) : text;
  for (const v of values) {
    if (v.length >= MIN_SECRET_LENGTH && out.includes(v)) out = out.split(v).join(REDACTED);
  }
  return out;
}

/** `text` with known secret values and URL passwords replaced by `***`. */
export function redactSecretText(text: string, secrets?: SecretValues): string {
  return redactText(text, valuesOf(secrets));
}

function scrub(value: unknown, values: readonly string[], byKey: boolean, depth: number): unknown {
  if (typeof value === 'string') return redactText(value, values);
  if (value === null || typeof value !== 'object' || depth > 64) return value;
  if (Array.isArray(value)) {
    let changed: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      const next = scrub(item, values, byKey, depth + 1);
      if (next !== item) {
        changed ??= value.slice();
        changed[i] = next;
      }
    }
    return changed ?? value;
  }
  if (value instanceof Date) return value;
  const map = value as Record<string, unknown>;
  let changed: Record<string, unknown> | undefined;
  // for...in over own keys: no entries array per object (this runs for every stored event).
  for (const key in map) {
    if (!Object.prototype.hasOwnProperty.call(map, key)) continue;
    const item = map[key];
    const next =
      byKey && item !== null && item !== undefined && item !== '' && isSecretKey(key)
        ? REDACTED
        : typeof item === 'object' || typeof item === 'string'
          ? scrub(item, values, byKey, depth + 1)
          : item;
    if (next !== item) {
      changed ??= { ...map };
      changed[key] = next;
    }
  }
  return changed ?? value;
}

/**
 * A copy of `value` safe to store or print: values under secret-looking keys (`password`,
 * `token`, `secret`, `api_key`, `authorization`, `private_key`, `client_secret`,
 * `access_token`, `encryption_key`...) become `***`, and so do the known secret values and URL
 * passwords inside any string. Pure: unchanged parts are shared, nothing is mutated.
 */
export function scrubSecrets<T>(value: T, secrets?: SecretValues): T {
  return scrub(value, valuesOf(secrets), true, 0) as T;
}

/** Like scrubSecrets, but only known values and URL passwords: keys are left alone. */
export function redactSecretValues<T>(value: T, secrets?: SecretValues): T {
  return scrub(value, valuesOf(secrets), false, 0) as T;
}
