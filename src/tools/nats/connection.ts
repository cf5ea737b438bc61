import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { ConnectionOptions, NatsConnection } from '@nats-io/transport-node';
import { CancelledError } from '../../shared/index.js';
import { onToolResourcesClose } from '../resources.js';
import type { NatsConnectionSpec } from './config.js';
import { natsError } from './errors.js';

/**
 * One NATS connection per (servers, credentials), shared by every nats step of the process. A
 * connection with nothing in flight closes after IDLE_CLOSE_MS, and closeNatsConnections() (hosts:
 * closeToolResources()) closes them all, so a finished `noetl run` is not kept alive by a socket.
 * The NATS client is imported on first use only (STYLE.md 5).
 */

function importNats() {
  return Promise.all([
    import('@nats-io/transport-node'),
    import('@nats-io/jetstream'),
    import('@nats-io/kv'),
    import('@nats-io/obj'),
  ]).then(([transport, jetstream, kv, obj]) => ({ transport, jetstream, kv, obj }));
}

export type NatsModules = Awaited<ReturnType<typeof importNats>>;

/** What an operation gets: the loaded modules and clients bound to one cached connection. */
export interface NatsSession {
  readonly mods: NatsModules;
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
}

interface Entry {
  readonly key: string;
  readonly connecting: Promise<NatsConnection>;
  inFlight: number;
  timer: NodeJS.Timeout | undefined;
}

export const IDLE_CLOSE_MS = 2_000;

const entries = new Map<string, Entry>();
let modules: Promise<NatsModules> | undefined;

function loadModules(): Promise<NatsModules> {
  modules ??= importNats().catch((err: unknown) => {
    modules = undefined;
    throw err;
  });
  return modules;
}

function keyOf(spec: NatsConnectionSpec): string {
  return createHash('sha256').update(JSON.stringify(spec)).digest('hex');
}

async function credsBytes(creds: string): Promise<Uint8Array> {
  // Content of a .creds file, or a path to one.
  if (creds.includes('-----BEGIN')) return new TextEncoder().encode(creds);
  return new Uint8Array(await readFile(creds));
}

/** `nats://user:secret@host` -> `nats://user:***@host`; `nats://token@host` -> `nats://***@host`. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^@/]*)@/, (_m, auth: string) => {
    const colon = auth.indexOf(':');
    return colon >= 0 ? `//${auth.slice(0, colon)}:***@` : '//***@';
  });
}

async function open(spec: NatsConnectionSpec, timeoutMs: number): Promise<NatsConnection> {
  const mods = await loadModules();
  const options: ConnectionOptions = {
    servers: [...spec.servers],
    name: 'noetl-tool',
    timeout: timeoutMs,
    ...(spec.user !== undefined ? { user: spec.user } : {}),
    ...(spec.password !== undefined ? { pass: spec.password } : {}),
    ...(spec.token !== undefined ? { token: spec.token } : {}),
    ...(spec.creds !== undefined
      ? { authenticator: mods.transport.credsAuthenticator(await credsBytes(spec.creds)) }
      : {}),
  };
  try {
    return await mods.transport.connect(options);
  } catch (err) {
    const servers = spec.servers.map(redactUrl);
    throw natsError(`cannot connect to ${servers.join(',')}`, err, { servers });
  }
}

function drop(entry: Entry): void {
  if (entries.get(entry.key) === entry) entries.delete(entry.key);
  if (entry.timer) clearTimeout(entry.timer);
  entry.timer = undefined;
}

async function closeEntry(entry: Entry): Promise<void> {
  drop(entry);
  const nc = await entry.connecting.catch(() => undefined);
  if (nc && !nc.isClosed()) await nc.close().catch(() => undefined);
}

function acquire(spec: NatsConnectionSpec, timeoutMs: number): Entry {
  const key = keyOf(spec);
  let entry = entries.get(key);
  if (!entry) {
    const connecting = open(spec, timeoutMs);
    const created: Entry = { key, connecting, inFlight: 0, timer: undefined };
    entry = created;
    entries.set(key, created);
    onToolResourcesClose(closeNatsConnections);
    connecting.then(
      // A connection that gave up reconnecting leaves the cache; the next step dials again.
      (nc) => void nc.closed().then(() => drop(created)),
      () => drop(created),
    );
  }
  if (entry.timer) clearTimeout(entry.timer);
  entry.timer = undefined;
  entry.inFlight += 1;
  return entry;
}

function release(entry: Entry): void {
  entry.inFlight -= 1;
  if (entry.inFlight > 0 || entries.get(entry.key) !== entry) return;
  entry.timer = setTimeout(() => void closeEntry(entry), IDLE_CLOSE_MS);
  entry.timer.unref();
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new CancelledError('nats: cancelled'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new CancelledError('nats: cancelled'));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

/** Runs `fn` on the cached connection for `spec` (dialled on first use). */
export async function withNatsSession<T>(
  spec: NatsConnectionSpec,
  timeoutMs: number,
  signal: AbortSignal,
  fn: (session: NatsSession) => Promise<T>,
): Promise<T> {
  const entry = acquire(spec, timeoutMs);
  try {
    const [mods, nc] = await abortable(Promise.all([loadModules(), entry.connecting]), signal);
    const options = { timeout: timeoutMs, checkAPI: false };
    const session: NatsSession = {
      mods,
      nc,
      js: mods.jetstream.jetstream(nc, options),
      jsm: await mods.jetstream.jetstreamManager(nc, options),
      timeoutMs,
      signal,
    };
    return await abortable(fn(session), signal);
  } finally {
    release(entry);
  }
}

/** Closes every cached connection (idempotent). Registered with closeToolResources(). */
export async function closeNatsConnections(): Promise<void> {
  await Promise.all([...entries.values()].map((entry) => closeEntry(entry)));
}

/** How many connections are cached (tests). */
export function openNatsConnectionCount(): number {
  return entries.size;
}
