import type { ConfigReader } from './sources.js';

/** The warm python interpreters of a worker, the server's embedded workers or `noetl run`. */
export interface PythonPoolSettings {
  /** Interpreters at most; undefined: one per slot of the host. */
  readonly size?: number;
  readonly maxRuns: number;
  readonly maxRssBytes: number;
}

/**
 * `NOETL_PYTHON_POOL` (0 = a process per python step), `NOETL_PYTHON_POOL_MAX_RUNS`,
 * `NOETL_PYTHON_POOL_MAX_RSS_MB`: false when python steps run in a process each.
 */
export function readPythonPool(read: ConfigReader): PythonPoolSettings | false {
  const size = read.has('NOETL_PYTHON_POOL')
    ? read.int('NOETL_PYTHON_POOL', 0, { min: 0, max: 1024 })
    : undefined;
  const maxRuns = read.int('NOETL_PYTHON_POOL_MAX_RUNS', 100, { min: 1, max: 1_000_000 });
  const maxRssMb = read.int('NOETL_PYTHON_POOL_MAX_RSS_MB', 512, { min: 16, max: 1 << 20 });
  if (size === 0) return false;
  return { ...(size !== undefined ? { size } : {}), maxRuns, maxRssBytes: maxRssMb * 1024 * 1024 };
}
