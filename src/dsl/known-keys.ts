import { didYouMean, type Path, type RawMap } from './raw.js';
import type { Reporter } from './reporter.js';

/**
 * The keys a playbook may use where the set is closed (NoETL's models and this project's readers):
 * anything else there is a typo or a misplaced key, reported as an UNKNOWN_KEY warning with the
 * nearest known key. Tool configs are open (each kind reads its own keys), and so are `metadata`,
 * `workload`, keychain entries, a step's `spec`, loop cursors and frames.
 */

export const TOP_KEYS: readonly string[] = [
  'apiVersion',
  'kind',
  'metadata',
  'workload',
  'workflow',
  'workbook',
  'keychain',
  'executor',
  'vars',
];

/** `type` is here so that legacy `type:` steps get their own error, not an unknown-key warning. */
export const STEP_KEYS: readonly string[] = [
  'step',
  'desc',
  'tool',
  'next',
  'when',
  'loop',
  'set',
  'input',
  'args',
  'vars',
  'spec',
  'output',
  'case',
  'type',
];

export const WORKBOOK_ENTRY_KEYS: readonly string[] = ['name', 'desc', 'tool', 'assert', 'sink'];
export const EXECUTOR_KEYS: readonly string[] = ['profile', 'version', 'requires', 'spec'];
export const EXECUTOR_REQUIRES_KEYS: readonly string[] = ['tools', 'features'];
export const EXECUTOR_SPEC_KEYS: readonly string[] = [
  'entry_step',
  'final_step',
  'no_next_is_error',
  'policy',
];
/** `mode` and `max_in_flight` are the legacy shorthands of `spec.mode` / `spec.max_in_flight`. */
export const LOOP_KEYS: readonly string[] = ['in', 'iterator', 'spec', 'cursor', 'mode', 'max_in_flight'];
export const LOOP_SPEC_KEYS: readonly string[] = ['mode', 'max_in_flight', 'policy', 'frame'];
export const ROUTER_KEYS: readonly string[] = ['spec', 'arcs'];
export const ROUTER_SPEC_KEYS: readonly string[] = ['mode', 'on_no_match', 'policy'];
/** `args`, `with`, `data`: legacy spellings of the values handed to the target. */
export const ARC_KEYS: readonly string[] = ['step', 'when', 'set', 'spec', 'args', 'with', 'data'];
export const POLICY_KEYS: readonly string[] = ['rules', 'mode', 'on_unmatched', 'before', 'after', 'finally'];
/** `target` and `set_vars`: legacy `eval` spellings of `to` and `set`. */
export const THEN_KEYS: readonly string[] = [
  'do',
  'attempts',
  'backoff',
  'delay',
  'to',
  'target',
  'set',
  'set_vars',
  'allow',
];
/** `expr`: the legacy spelling of `when`. A short-form rule also takes the keys of `then`. */
export const RULE_KEYS: readonly string[] = ['when', 'expr', 'then', 'else'];

/** Step keys that have no meaning inside a tool map: written there, they are mis-indented. */
export const STEP_ONLY_KEYS: ReadonlySet<string> = new Set(['next', 'loop', 'when', 'case']);

/** Keys tools read: at the step level they were meant to go under `tool:`. */
const TOOL_SETTINGS: ReadonlySet<string> = new Set([
  'kind',
  'code',
  'command',
  'commands',
  'cmds',
  'url',
  'endpoint',
  'method',
  'headers',
  'params',
  'query',
  'auth',
  'libs',
  'script',
  'payload',
  'body',
  'json',
  'database',
  'timeout',
  'retry',
  'output',
  'path',
  'return_step',
]);

/** Words people write for a key that exists under another name. */
const SYNONYMS: Readonly<Record<string, string>> = {
  cond: 'when',
  condition: 'when',
  if: 'when',
  goto: 'next',
  then: 'next',
};

function hint(key: string, known: readonly string[], toolHint: boolean): string {
  const synonym = SYNONYMS[key];
  if (synonym !== undefined && known.includes(synonym)) return ` (did you mean '${synonym}'?)`;
  const near = didYouMean(key, known);
  if (near !== '') return near;
  if (toolHint && TOOL_SETTINGS.has(key)) return ' (a tool setting: indent it under `tool:`)';
  return '';
}

/**
 * Reports every key of `map` that is not in `known` (UNKNOWN_KEY, a warning), pointing at the key.
 * `what` names the map in the message (`a step`, `loop.spec`...). `toolHint`: suggest moving a
 * tool setting under `tool:` (step level).
 */
export function checkKeys(
  map: RawMap,
  known: readonly string[],
  path: Path,
  what: string,
  rep: Reporter,
  toolHint = false,
): void {
  for (const key of Object.keys(map)) {
    if (known.includes(key)) continue;
    rep.warning(
      'UNKNOWN_KEY',
      [...path, key],
      `unknown key '${key}' in ${what}; it is ignored${hint(key, known, toolHint)}`,
    );
  }
}

/** A step key written inside a tool map (e.g. `next:` indented under `tool:`). */
export function checkToolKeys(map: RawMap, path: Path, rep: Reporter): void {
  for (const key of Object.keys(map)) {
    if (!STEP_ONLY_KEYS.has(key)) continue;
    rep.warning(
      'UNKNOWN_KEY',
      [...path, key],
      `'${key}' inside \`tool:\` is not a tool setting; it is ignored (did you mean it at the step level, indented like \`tool:\`?)`,
    );
  }
}
