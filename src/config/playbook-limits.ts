import { DEFAULT_PLAYBOOK_LIMITS, type PlaybookLimits } from '../shared/index.js';
import type { ConfigReader } from './sources.js';

/**
 * `NOETL_PLAYBOOK_MAX_BYTES`, `_MAX_STEPS`, `_MAX_DEPTH`: the size limits of a playbook, read by
 * the server and by `noetl run` / `noetl validate`. A playbook needs 4 levels (root map,
 * `workflow`, a step, its tool), so a depth below that is refused as a setting.
 */
export function readPlaybookLimits(read: ConfigReader): PlaybookLimits {
  const d = DEFAULT_PLAYBOOK_LIMITS;
  return {
    maxBytes: read.int('NOETL_PLAYBOOK_MAX_BYTES', d.maxBytes, { min: 1024 }),
    maxSteps: read.int('NOETL_PLAYBOOK_MAX_STEPS', d.maxSteps, { min: 1 }),
    maxDepth: read.int('NOETL_PLAYBOOK_MAX_DEPTH', d.maxDepth, { min: 4 }),
  };
}
