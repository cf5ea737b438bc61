import type { ConfigMap } from '../config-helpers.js';

export interface NoopConfig {
  readonly result: unknown;
}

/** `result` is returned as data; `message` alone becomes the data; otherwise `{}`. */
export function readNoopConfig(config: ConfigMap): NoopConfig {
  if (config.result !== undefined && config.result !== null) return { result: config.result };
  if (config.message !== undefined && config.message !== null) return { result: config.message };
  return { result: {} };
}
