import { fsyncSync } from 'node:fs';
import type { PGliteOptions } from '@electric-sql/pglite';

/**
 * PGlite starts PostgreSQL with `-F` (fsync off), and even with fsync on its Node filesystem
 * (Emscripten NODEFS) has no `fsync` stream operation, so `fsync()` from PostgreSQL is a no-op:
 * a commit reaches the OS page cache (it survives a process crash) but not the disk (it may not
 * survive a power loss). We start without `-F`, with `wal_sync_method=fsync` (Emscripten's
 * `fdatasync` is an unconditional no-op, `fsync` goes through the stream operation), and give
 * NODEFS a real `fsync`. Each commit is then flushed to disk before it is acknowledged.
 */

type Filesystem = NonNullable<PGliteOptions['fs']>;

interface NodeFsStream {
  readonly nfd?: number;
}

interface NodeFsModule {
  readonly NODEFS: { readonly stream_ops: { fsync?: (stream: NodeFsStream) => number } };
}

/** WASI errno EIO: PostgreSQL sees the failed fsync and stops instead of losing data. */
const WASI_EIO = 29;

function giveNodeFsARealFsync(mod: unknown): void {
  const streamOps = (mod as NodeFsModule).NODEFS.stream_ops;
  streamOps.fsync = (stream) => {
    if (typeof stream.nfd !== 'number') return 0;
    try {
      fsyncSync(stream.nfd);
      return 0;
    } catch {
      return WASI_EIO;
    }
  };
}

/** PostgreSQL settings that make commits durable (with the filesystem below). */
export const DURABLE_SETTINGS: Readonly<Record<string, string>> = {
  fsync: 'on',
  wal_sync_method: 'fsync',
  synchronous_commit: 'on',
};

/** A NODEFS-backed filesystem rooted at `dataDir` whose fsync reaches the disk. */
export async function durableNodeFs(dataDir: string): Promise<Filesystem> {
  const { NodeFS } = await import('@electric-sql/pglite/nodefs');
  class DurableNodeFS extends NodeFS {
    override async init(...args: Parameters<InstanceType<typeof NodeFS>['init']>) {
      const result = await super.init(...args);
      const preRun = result.emscriptenOpts.preRun ?? [];
      result.emscriptenOpts.preRun = [...preRun, giveNodeFsARealFsync];
      return result;
    }
  }
  return new DurableNodeFS(dataDir);
}
