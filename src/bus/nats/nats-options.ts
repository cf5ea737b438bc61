import { ConfigError, silentLogger } from '../../shared/index.js';
import type { Logger } from '../../shared/index.js';
import { DEFAULT_SUBJECT_PREFIX } from '../subject.js';

export interface NatsBusOptions {
  /** `NATS_URL`; comma-separated for a cluster; may carry `user:pass@` or `token@`. */
  readonly url?: string;
  readonly user?: string;
  readonly password?: string;
  readonly token?: string;
  /** `NATS_STREAM`. */
  readonly stream?: string;
  /** `NATS_SUBJECT`: the legacy bare subject and the prefix of routed ones. */
  readonly subject?: string;
  /** `NATS_CONSUMER`: durable name; a pool subscription uses `<consumer>_<pool>`. */
  readonly consumer?: string;
  /** Redelivery after this long without ack or `working()`. Keep it above a claim round trip. */
  readonly ackWaitMs?: number;
  readonly maxDeliver?: number;
  /** Unacked notifications per consumer across all its workers. */
  readonly maxAckPending?: number;
  readonly maxAgeMs?: number;
  readonly storage?: 'file' | 'memory';
  /** De-dup window on `command_id` (`Nats-Msg-Id`). */
  readonly duplicateWindowMs?: number;
  /** How long one pull request waits on the server (min 1000). */
  readonly fetchExpiresMs?: number;
  /** Idle heartbeat of pull requests; two missed ones end a pull. */
  readonly fetchHeartbeatMs?: number;
  /** Total time `publish` keeps trying (across a reconnect) before it fails retryable. */
  readonly publishTimeoutMs?: number;
  readonly reconnectWaitMs?: number;
  /** Connection name shown by the server (`nats server report connections`). */
  readonly name?: string;
  readonly logger?: Logger;
}

export type ResolvedNatsBusOptions = Required<Omit<NatsBusOptions, 'user' | 'password' | 'token'>> &
  Pick<NatsBusOptions, 'user' | 'password' | 'token'> & { readonly servers: string[] };

export const NATS_DEFAULTS = {
  url: 'nats://127.0.0.1:4222',
  stream: 'noetl_commands',
  subject: DEFAULT_SUBJECT_PREFIX,
  consumer: 'worker-pool',
  ackWaitMs: 60_000,
  maxDeliver: 1000,
  maxAckPending: 64,
  maxAgeMs: 3_600_000,
  storage: 'file',
  duplicateWindowMs: 120_000,
  fetchExpiresMs: 30_000,
  fetchHeartbeatMs: 5_000,
  publishTimeoutMs: 10_000,
  reconnectWaitMs: 1_000,
  name: 'noetl',
} as const;

const NAME_RE = /^[A-Za-z0-9_-]+$/;
const SUBJECT_RE = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

/**
 * Maps the contract's env names (section 8) to options. Pure: the config part passes its env in,
 * nothing here reads `process.env` (STYLE.md 14).
 */
export function natsBusOptionsFromEnv(env: Readonly<Record<string, string | undefined>>): NatsBusOptions {
  type Mutable = { -readonly [K in keyof NatsBusOptions]: NatsBusOptions[K] };
  type StringKey = 'url' | 'user' | 'password' | 'token' | 'stream' | 'subject' | 'consumer';
  type NumberKey = 'ackWaitMs' | 'fetchExpiresMs' | 'fetchHeartbeatMs' | 'maxAckPending' | 'maxDeliver';
  const out: Mutable = {};
  const read = (name: string): string | undefined => {
    const v = env[name]?.trim();
    return v === undefined || v === '' ? undefined : v;
  };
  const str = (key: StringKey, name: string): void => {
    const v = read(name);
    if (v !== undefined) out[key] = v;
  };
  const num = (key: NumberKey, name: string, unit: 'seconds' | 'count'): void => {
    const v = read(name);
    if (v === undefined) return;
    const n = Number(v);
    if (unit === 'seconds') {
      if (!Number.isFinite(n) || n <= 0)
        throw new ConfigError(`${name} must be a positive number, got '${v}'`);
      out[key] = Math.round(n * 1000);
    } else {
      if (!Number.isInteger(n) || n < 1)
        throw new ConfigError(`${name} must be a positive integer, got '${v}'`);
      out[key] = n;
    }
  };
  str('url', 'NATS_URL');
  str('user', 'NATS_USER');
  str('password', 'NATS_PASSWORD');
  str('token', 'NATS_TOKEN');
  str('stream', 'NATS_STREAM');
  str('subject', 'NATS_SUBJECT');
  str('consumer', 'NATS_CONSUMER');
  num('ackWaitMs', 'NOETL_WORKER_NATS_ACK_WAIT_SECONDS', 'seconds');
  num('fetchExpiresMs', 'NOETL_WORKER_NATS_FETCH_TIMEOUT_SECONDS', 'seconds');
  num('fetchHeartbeatMs', 'NOETL_WORKER_NATS_FETCH_HEARTBEAT_SECONDS', 'seconds');
  num('maxAckPending', 'NOETL_WORKER_NATS_MAX_ACK_PENDING', 'count');
  num('maxDeliver', 'NOETL_WORKER_NATS_MAX_DELIVER', 'count');
  return out;
}

/** Fills defaults, moves credentials out of the URL, and checks names. */
export function resolveNatsOptions(options: NatsBusOptions): ResolvedNatsBusOptions {
  let { user, password, token } = options;
  const servers = (options.url ?? NATS_DEFAULTS.url)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((server) => {
      const withScheme = server.includes('://') ? server : `nats://${server}`;
      let parsed: URL;
      try {
        parsed = new URL(withScheme);
      } catch {
        throw new ConfigError(`NATS_URL: invalid server URL '${server}'`);
      }
      const u = decodeURIComponent(parsed.username);
      const p = decodeURIComponent(parsed.password);
      if (u && p) {
        user ??= u;
        password ??= p;
      } else if (u) token ??= u;
      return `${parsed.protocol}//${parsed.host}`;
    });
  if (servers.length === 0) throw new ConfigError('NATS_URL is empty');
  const o = { ...NATS_DEFAULTS, logger: silentLogger, ...stripUndefined(options) };
  for (const [key, value] of [
    ['stream', o.stream],
    ['consumer', o.consumer],
  ] as const) {
    if (!NAME_RE.test(value))
      throw new ConfigError(`NATS ${key} name '${value}' may hold only A-Z a-z 0-9 _ -`);
  }
  if (!SUBJECT_RE.test(o.subject))
    throw new ConfigError(`NATS subject '${o.subject}' is not a plain subject`);
  if (o.fetchExpiresMs < 1000) throw new ConfigError('NATS fetch timeout must be at least 1 s');
  return {
    ...o,
    servers,
    ...(user === undefined ? {} : { user }),
    ...(password === undefined ? {} : { password }),
    ...(token === undefined ? {} : { token }),
  };
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
