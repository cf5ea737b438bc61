import {
  configError,
  optBoolean,
  optMap,
  optNumber,
  optSeconds,
  optString,
  pick,
  type ConfigMap,
} from '../config-helpers.js';
import type { ChildMode } from '../types.js';

export interface PlaybookConfig {
  readonly path?: string;
  readonly catalogId?: string;
  readonly version?: string | number;
  readonly workload: Readonly<Record<string, unknown>>;
  readonly mode: ChildMode;
  readonly resultStep?: string;
  readonly timeoutMs: number;
  readonly pollIntervalMs: number;
}

const KIND = 'playbook';

function readMode(config: ConfigMap): ChildMode {
  if (optBoolean(KIND, config, 'return_result') === true) return 'result';
  const returnStep = pick(config, 'return_step');
  if (returnStep !== undefined && returnStep !== false && returnStep !== '') return 'status';
  return 'async';
}

export function readPlaybookConfig(config: ConfigMap): PlaybookConfig {
  const path = optString(KIND, config, 'path');
  const catalogId = optString(KIND, config, 'catalog_id');
  if (!path && !catalogId) throw configError(KIND, "'path' or 'catalog_id' is required");
  const rawVersion = pick(config, 'version');
  const version = typeof rawVersion === 'number' ? rawVersion : optString(KIND, config, 'version');
  const mode = readMode(config);
  const resultStep = optString(KIND, config, 'result_step');
  const timeoutMs =
    optSeconds(KIND, config, 'timeout', 'timeout_seconds') ?? (mode === 'result' ? 180_000 : 300_000);
  const poll = optNumber(KIND, config, 'poll_interval');
  if (poll !== undefined && poll <= 0) throw configError(KIND, `'poll_interval' must be positive`);
  return {
    ...(path ? { path } : {}),
    ...(catalogId ? { catalogId } : {}),
    ...(version !== undefined ? { version } : {}),
    workload: optMap(KIND, config, 'input', 'args', 'payload') ?? {},
    mode,
    ...(resultStep !== undefined ? { resultStep } : {}),
    timeoutMs,
    pollIntervalMs: Math.round((poll ?? 2) * 1000),
  };
}
