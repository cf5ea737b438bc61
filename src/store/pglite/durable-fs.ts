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

interface NodeFsAttributes {
  readonly mode?: number | null;
}

interface NodeFsModule {
  readonly NODEFS: {
    readonly stream_ops: { fsync?: (stream: NodeFsStream) => number };
    readonly node_ops: {
      setattr: (node: unknown, attr: NodeFsAttributes) => void;
      mknod: (parent: unknown, name: string, mode: number, dev: unknown) => unknown;
    };
  };
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

/** Group and other permission bits: the data directory is its owner's alone. */
const GROUP_OTHER = 0o077;

/**
 * Emscripten creates a file as 0777 and then chmods it to `mode & ~0o022` (its own fixed umask),
 * so whatever the process umask, PostgreSQL's files (pg_internal.init at each start, say) came
 * out 0644. Every mode NODEFS sets is stripped of group and other bits instead.
 */
function keepModesPrivate(mod: unknown): void {
  const nodeOps = (mod as NodeFsModule).NODEFS.node_ops;
  const { setattr, mknod } = nodeOps;
  nodeOps.setattr = (node, attr) =>
    setattr.call(
      nodeOps,
      node,
      typeof attr.mode === 'number' ? { ...attr, mode: attr.mode & ~GROUP_OTHER } : attr,
    );
  nodeOps.mknod = (parent, name, mode, dev) => mknod.call(nodeOps, parent, name, mode & ~GROUP_OTHER, dev);
}

/** PostgreSQL settings that make commits durable (with the filesystem below). */
export const DURABLE_SETTINGS: Readonly<Record<string, string>> = {
  fsync: 'on',
  wal_sync_method: 'fsync',
  synchronous_commit: 'on',
};

/**
 * A NODEFS-backed filesystem rooted at `dataDir` that creates only private files and, when
 * `durable`, whose fsync reaches the disk.
 */
export async function privateNodeFs(dataDir: string, durable: boolean): Promise<Filesystem> {
  const { NodeFS } = await import('@electric-sql/pglite/nodefs');
  const patches = durable ? [keepModesPrivate, giveNodeFsARealFsync] : [keepModesPrivate];
  class PrivateNodeFS extends NodeFS {
    override async init(...args: Parameters<InstanceType<typeof NodeFS>['init']>) {
      const result = await super.init(...args);
      const preRun = result.emscriptenOpts.preRun ?? [];
      result.emscriptenOpts.preRun = [...preRun, ...patches];
      return result;
    }
  }
  return new PrivateNodeFS(dataDir);
}
