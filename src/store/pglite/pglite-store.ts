import { mkdir } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { dirname, resolve } from 'node:path';
import type { PGliteOptions } from '@electric-sql/pglite';
import type { HealthResult } from '../ports.js';
import { SqlStore, type SqlStoreOptions } from '../sql-store.js';
import { acquireDataDirLock, type DataDirLock } from './data-dir-lock.js';
import { DURABLE_SETTINGS, privateNodeFs } from './durable-fs.js';
import { storageShortage } from './free-space.js';
import { initDataDirInChild, needsInit } from './init-in-child.js';
import { PgliteRootDb } from './pglite-db.js';
import { makePrivate } from './private-files.js';

export interface PgliteStoreOptions extends SqlStoreOptions {
  /** Directory of the database files, created on first open; `memory://` keeps it in memory. */
  readonly dataDir: string;
  /** fsync every commit to disk (default true; see durable-fs.ts). */
  readonly durable?: boolean;
  /** PostgreSQL `shared_buffers` (default 16MB: PGlite's 128MB costs ~110 MB of RSS). */
  readonly sharedBuffers?: string;
  /** More `-c name=value` server settings. */
  readonly settings?: Readonly<Record<string, string>>;
}

const INT8_OID = 20;

/** PGlite's default start parameters without `-F` (which turns fsync off). */
async function startParams(options: PgliteStoreOptions, durable: boolean): Promise<string[]> {
  const { PGlite } = await import('@electric-sql/pglite');
  const base = PGlite.defaultStartParams.filter((p) => !(durable && p === '-F'));
  const settings: Record<string, string> = {
    shared_buffers: options.sharedBuffers ?? '16MB',
    ...(durable ? DURABLE_SETTINGS : {}),
    ...options.settings,
  };
  return [...base, ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
}

/**
 * How recent a good ping must be to answer health while the database is busy. PGlite runs one
 * statement or transaction at a time, so a ping sent meanwhile waits for it: an execute with a
 * 3.4 MB workload holds the session for most of a second, longer on a loaded machine.
 */
const BUSY_HEALTH_MS = 10_000;

/** The embedded store: PostgreSQL compiled to WASM, one process, data on local disk. */
export class PgliteStore extends SqlStore {
  private dataDir: string | undefined;
  /** The last ping's answer and when it came (performance.now()). */
  private lastPing: { readonly at: number; readonly result: HealthResult } | undefined;
  /** The ping under way, shared by the health calls that come while it waits. */
  private pinging: Promise<HealthResult> | undefined;

  /**
   * While the session is busy (a transaction holds it) and the last ping answered well less than
   * BUSY_HEALTH_MS ago, that answer stands instead of queueing behind the transaction; a new ping
   * is sent all the same (one at a time) and answers the calls after it. A ping answers even when
   * the disk is full and every write fails, so health also checks the free space of the data
   * directory's filesystem each time (and is healthy again once space returns).
   */
  override async health(): Promise<HealthResult> {
    const busy = this.stats().idle === 0;
    const ping = this.ping();
    const last = this.lastPing;
    const recent = last !== undefined && last.result.ok && performance.now() - last.at < BUSY_HEALTH_MS;
    const result = busy && recent ? last.result : await ping;
    if (!result.ok || this.dataDir === undefined) return result;
    const shortage = storageShortage(this.dataDir);
    return shortage === undefined ? result : { ...result, ok: false, error: shortage };
  }

  private ping(): Promise<HealthResult> {
    this.pinging ??= super
      .health()
      .then((result) => {
        this.lastPing = { at: performance.now(), result };
        return result;
      })
      .finally(() => {
        this.pinging = undefined;
      });
    return this.pinging;
  }

  /** Opens (creating on first use) the data directory. PGlite is loaded here, lazily. */
  static async open(options: PgliteStoreOptions): Promise<PgliteStore> {
    const inMemory = options.dataDir.startsWith('memory://');
    const durable = !inMemory && (options.durable ?? true);
    const dataDir = inMemory ? options.dataDir : resolve(options.dataDir);
    let lock: DataDirLock | undefined;
    if (!inMemory) {
      await mkdir(dirname(dataDir), { recursive: true, mode: 0o700 });
      lock = acquireDataDirLock(dataDir);
    }
    try {
      const params = await startParams(options, durable);
      if (!inMemory) {
        if (needsInit(dataDir)) await initDataDirInChild(dataDir, params);
        // PGlite's cluster files are 0666 whatever the umask: private before anything is stored.
        await makePrivate(dataDir);
      }
      const { PGlite } = await import('@electric-sql/pglite');
      const pgOptions: PGliteOptions = {
        startParams: params,
        // bigint columns as decimal strings, like pg (PGlite would give numbers or BigInts)
        parsers: { [INT8_OID]: (value: string) => value },
        ...(inMemory ? { dataDir } : { fs: await privateNodeFs(dataDir, durable) }),
      };
      const pg = await PGlite.create(pgOptions);
      const store = new PgliteStore(new PgliteRootDb(pg, () => lock?.release()), 'pglite', options);
      if (!inMemory) store.dataDir = dataDir;
      return store;
    } catch (error) {
      lock?.release();
      throw error;
    }
  }
}
