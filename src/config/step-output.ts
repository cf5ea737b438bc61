import type { ConfigReader } from './sources.js';

/** Default of `NOETL_STEP_OUTPUT_MAX_BYTES` (the tools' own default, src/tools/output.ts). */
const DEFAULT_STEP_OUTPUT_MAX_BYTES = 64 * 1024;

/**
 * `NOETL_STEP_OUTPUT_MAX_BYTES`: how much stdout/stderr each step keeps, read by the server (its
 * in-process workers), the worker and `noetl run`.
 */
export function readStepOutputMaxBytes(read: ConfigReader): number {
  return read.int('NOETL_STEP_OUTPUT_MAX_BYTES', DEFAULT_STEP_OUTPUT_MAX_BYTES, { min: 1024, max: 1 << 30 });
}
