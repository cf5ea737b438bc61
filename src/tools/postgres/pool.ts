import { createHash } from 'node:crypto';
import type * as PgApi from 'pg';
import type { CustomTypesConfig, Pool, PoolClient, PoolConfig } from 'pg';
import { onToolResourcesClose } from '../resources.js';
import type { PgConnection } from './config.js';
import { pgToolError } from './errors.js';
import { ARRAY_ELEMENTS, TEXT_ARRAY_OID, VALUE_PARSERS } from './values.js';

/**
 * One pool per connection identity (connection fields, schema and timeout), kept for the life of
 * the process: idle clients close after IDLE_MS and never keep it alive (`allowExitOnIdle`).
 * closePools() ends them all (tests; hosts through closeToolResources()).
 */
const pools = new Map<string, Pool>();
const IDLE_MS = 10_000;
const MAX_CLIENTS = 10;
const CONNECT_TIMEOUT_MS = 10_000;

type PgModule = typeof PgApi;
let pgModule: Promise<PgModule> | undefined;

export function loadPg(): Promise<PgModule> {
  pgModule ??= import('pg');
  return pgModule;
}

function typesOf(pg: PgModule): CustomTypesConfig {
  const lookup = pg.types.getTypeParser as (oid: number, format?: 'text' | 'binary') => unknown;
  const textArray = lookup(TEXT_ARRAY_OID, 'text') as (text: string) => (string | null)[];
  const getTypeParser = ((oid: number, format?: 'text' | 'binary') => {
    if (format !== 'binary') {
      const own = VALUE_PARSERS.get(oid);
      if (own) return own;
      const element = ARRAY_ELEMENTS.get(oid);
      const parse = element !== undefined ? VALUE_PARSERS.get(element) : undefined;
      if (parse) return (text: string) => textArray(text).map((v) => (v === null ? null : parse(v)));
    }
    return lookup(oid, format ?? 'text');
  }) as CustomTypesConfig['getTypeParser'];
  return { getTypeParser };
}

function sslOf(mode: string | undefined): PoolConfig['ssl'] {
  switch (mode?.toLowerCase()) {
    case undefined:
    case 'disable':
    case 'allow':
    case 'prefer':
      return undefined;
    case 'verify-ca':
    case 'verify-full':
      return true;
    default:
      return { rejectUnauthorized: false };
  }
}

/** `a, b` -> `"a", "b"`. */
function searchPath(pg: PgModule, schema: string): string {
  return schema
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => pg.escapeIdentifier(s))
    .join(', ');
}

/** A short label of where a connection goes (no password). */
export function describeConnection(c: PgConnection): string {
  if (c.connectionString !== undefined) {
    try {
      const url = new URL(c.connectionString);
      return `${url.hostname || 'localhost'}:${url.port || '5432'}${url.pathname}`;
    } catch {
      return 'connection_string';
    }
  }
  return `${c.host ?? 'localhost'}:${c.port ?? 5432}/${c.database ?? ''}`;
}

async function poolFor(c: PgConnection): Promise<Pool> {
  const key = createHash('sha256').update(JSON.stringify(c)).digest('hex');
  const hit = pools.get(key);
  if (hit) return hit;
  const pg = await loadPg();
  const again = pools.get(key);
  if (again) return again;
  const ssl = sslOf(c.sslmode);
  const pool = new pg.Pool({
    ...(c.connectionString !== undefined ? { connectionString: c.connectionString } : {}),
    ...(c.host !== undefined ? { host: c.host } : {}),
    ...(c.port !== undefined ? { port: c.port } : {}),
    ...(c.user !== undefined ? { user: c.user } : {}),
    ...(c.password !== undefined ? { password: c.password } : {}),
    ...(c.database !== undefined ? { database: c.database } : {}),
    ...(ssl !== undefined ? { ssl } : {}),
    ...(c.statementTimeoutMs !== undefined ? { statement_timeout: c.statementTimeoutMs } : {}),
    types: typesOf(pg),
    max: MAX_CLIENTS,
    idleTimeoutMillis: IDLE_MS,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    allowExitOnIdle: true,
    application_name: 'noetl',
  });
  // An idle client losing its connection must not crash the process; the next checkout reconnects.
  pool.on('error', () => undefined);
  if (c.schema !== undefined) {
    const path = searchPath(pg, c.schema);
    pool.on('connect', (client) => {
      // Queued before any query of this client, so it always runs first.
      client.query(`SET search_path TO ${path}`).catch(() => undefined);
    });
  }
  pools.set(key, pool);
  onToolResourcesClose(closePools);
  return pool;
}

/** A pooled client checked out for a while (a transfer's source or target). */
export interface PgLease {
  readonly client: PoolClient;
  /** Returns the client; after a failure it is discarded (its session may be mid-transaction). */
  release(failure?: unknown): void;
}

/**
 * Checks out a pooled client. While it is out, cancelling `signal` cancels its running statement
 * (`pg_cancel_backend`).
 */
export async function connectPg(c: PgConnection, what: string, signal: AbortSignal): Promise<PgLease> {
  const pool = await poolFor(c);
  let client: PoolClient;
  try {
    client = await pool.connect();
  } catch (err) {
    throw pgToolError(err, `${what}: cannot connect to ${describeConnection(c)}`);
  }
  const pid = (client as PoolClient & { processID?: number }).processID;
  const onAbort = (): void => {
    if (pid !== undefined) pool.query('SELECT pg_cancel_backend($1)', [pid]).catch(() => undefined);
  };
  signal.addEventListener('abort', onAbort, { once: true });
  let released = false;
  return {
    client,
    release(failure?: unknown): void {
      if (released) return;
      released = true;
      signal.removeEventListener('abort', onAbort);
      client.release(failure === undefined ? undefined : failure instanceof Error ? failure : true);
    },
  };
}

/** Runs `fn` with a pooled client (see connectPg); errors become step errors (pgToolError). */
export async function withPgClient<T>(
  c: PgConnection,
  what: string,
  signal: AbortSignal,
  fn: (client: PoolClient) => Promise<T>,
): Promise<T> {
  const lease = await connectPg(c, what, signal);
  try {
    const out = await fn(lease.client);
    lease.release();
    return out;
  } catch (err) {
    lease.release(err);
    throw pgToolError(err, what, {
      signal,
      ...(c.statementTimeoutMs !== undefined ? { timeoutMs: c.statementTimeoutMs } : {}),
    });
  }
}

/** Ends every pool (tests, process exit). */
export async function closePools(): Promise<void> {
  const all = [...pools.values()];
  pools.clear();
  await Promise.allSettled(all.map((p) => p.end()));
}
