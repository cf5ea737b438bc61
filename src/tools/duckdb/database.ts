import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type * as DuckdbApi from '@duckdb/node-api';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { errorMessage, NoetlError, ToolError } from '../../shared/index.js';
import { MEMORY } from './config.js';

export type DuckdbModule = typeof DuckdbApi;

let loading: Promise<DuckdbModule> | undefined;

/** The optional `@duckdb/node-api`, imported on first use; TOOL_UNSUPPORTED with a hint if absent. */
export function loadDuckdb(): Promise<DuckdbModule> {
  loading ??= import('@duckdb/node-api').catch((err: unknown) => {
    loading = undefined;
    throw new NoetlError(
      'TOOL_UNSUPPORTED',
      `duckdb: the optional dependency @duckdb/node-api is not available (${errorMessage(err)}); install it with 'npm install @duckdb/node-api'`,
      { cause: err },
    );
  });
  return loading;
}

interface Open {
  readonly instance: Promise<DuckDBInstance>;
  users: number;
}

/**
 * Database files open in this process, shared by concurrent steps (DuckDB allows one instance
 * per file per process) and closed when the last user is done, so no lock outlives a step.
 * `:memory:` is a fresh database per use.
 */
const open = new Map<string, Open>();

async function acquire(duck: DuckdbModule, path: string): Promise<DuckDBInstance> {
  if (path === MEMORY) return duck.DuckDBInstance.create(MEMORY);
  let hit = open.get(path);
  if (!hit) {
    hit = {
      instance: mkdir(dirname(path), { recursive: true }).then(() => duck.DuckDBInstance.create(path)),
      users: 0,
    };
    open.set(path, hit);
  }
  hit.users++;
  try {
    return await hit.instance;
  } catch (err) {
    hit.users--;
    if (open.get(path) === hit) open.delete(path);
    throw err;
  }
}

function release(path: string, instance: DuckDBInstance): void {
  if (path === MEMORY) {
    instance.closeSync();
    return;
  }
  const hit = open.get(path);
  if (!hit) return;
  hit.users--;
  if (hit.users === 0) {
    open.delete(path);
    instance.closeSync();
  }
}

/** A connection to a database file, open until close(). */
export interface DuckdbLease {
  readonly connection: DuckDBConnection;
  readonly duck: DuckdbModule;
  close(): void;
}

/** Opens a connection to `path`; cancelling `signal` interrupts its running query. */
export async function openDuckdb(path: string, what: string, signal: AbortSignal): Promise<DuckdbLease> {
  const duck = await loadDuckdb();
  let instance: DuckDBInstance;
  try {
    instance = await acquire(duck, path);
  } catch (err) {
    throw new ToolError(`${what}: cannot open ${path}: ${errorMessage(err)}`, { cause: err });
  }
  let connection: DuckDBConnection;
  try {
    connection = await instance.connect();
  } catch (err) {
    release(path, instance);
    throw new ToolError(`${what}: cannot connect to ${path}: ${errorMessage(err)}`, { cause: err });
  }
  const onAbort = (): void => connection.interrupt();
  signal.addEventListener('abort', onAbort, { once: true });
  let closed = false;
  return {
    connection,
    duck,
    close(): void {
      if (closed) return;
      closed = true;
      signal.removeEventListener('abort', onAbort);
      connection.closeSync();
      release(path, instance);
    },
  };
}

/** Runs `fn` with a connection to `path` (see openDuckdb). */
export async function withDuckdb<T>(
  path: string,
  what: string,
  signal: AbortSignal,
  fn: (connection: DuckDBConnection, duck: DuckdbModule) => Promise<T>,
): Promise<T> {
  const lease = await openDuckdb(path, what, signal);
  try {
    return await fn(lease.connection, lease.duck);
  } finally {
    lease.close();
  }
}
