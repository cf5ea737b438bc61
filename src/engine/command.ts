import type { KeychainEntry, Playbook, Step, ToolSpec } from '../dsl/index.js';
import { scanTemplate, type TemplateScope } from '../template/index.js';

/** A unit of work for a worker (contract 3.5): one tool (or pipeline) run of one step. */
export interface Command {
  /** `<execution_id>:<step>:<event_id>[:i<index>]` */
  readonly command_id: string;
  /** Id of the `command.issued` event (the numeric command id of `noetl.command`). */
  readonly event_id: string;
  readonly execution_id: string;
  readonly catalog_id?: string;
  readonly parent_execution_id?: string;
  readonly execution_pool?: string;
  readonly step: string;
  /** The task kind of a single tool, `task_sequence` for a pipeline. */
  readonly tool_kind: string;
  readonly tool: ToolSpec;
  /** Extra tool args (loop iterator vars, legacy step `args`). */
  readonly args: Readonly<Record<string, unknown>>;
  /** The values of every name the step's templates read, taken when the command was issued. */
  readonly render_context: Readonly<Record<string, unknown>>;
  readonly iteration_index?: number;
  readonly iteration_total?: number;
  /**
   * The playbook's keychain entries this command's templates read (`{{ keychain.<name>.* }}`),
   * unrendered; the worker resolves them when it runs the command, so secrets never reach events.
   */
  readonly keychain?: readonly KeychainEntry[];
}

/** What `command.issued` stores in its `context` (and a claim returns). */
export interface CommandContext {
  readonly tool_config: ToolSpec;
  readonly args: Readonly<Record<string, unknown>>;
  readonly render_context: Readonly<Record<string, unknown>>;
  readonly keychain?: readonly KeychainEntry[];
}

const namesCache = new WeakMap<Step, readonly string[]>();
const NO_NAMES: readonly string[] = Object.freeze([]);

function collect(value: unknown, names: Set<string>): void {
  if (typeof value === 'string') {
    if (value.includes('{{') || value.includes('{%')) for (const n of scanTemplate(value).names) names.add(n);
  } else if (Array.isArray(value)) {
    for (const v of value) collect(v, names);
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      collect(k, names);
      collect(v, names);
    }
  }
}

/** Root names read by the templates of a step's tool (config, policy rules, `set`) and `args`. */
export function namesReadBy(step: Step): readonly string[] {
  const hit = namesCache.get(step);
  if (hit) return hit;
  const names = new Set<string>();
  collect(
    step.tool?.tasks.map((t) => t.config),
    names,
  );
  for (const task of step.tool?.tasks ?? []) {
    collect(task.set, names);
    for (const rule of task.policy?.rules ?? []) {
      collect(rule.when, names);
      collect(rule.then.set, names);
    }
  }
  collect(step.args, names);
  const list = [...names];
  namesCache.set(step, list);
  return list;
}

/** The render context of a command: the value of every name the step reads. */
export function snapshotScope(
  step: Step,
  scope: TemplateScope,
  extraNames: readonly string[] = [],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const lookup =
    typeof scope === 'function'
      ? scope
      : (n: string): unknown => (Object.prototype.hasOwnProperty.call(scope, n) ? scope[n] : undefined);
  const take = (names: readonly string[]): void => {
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!;
      if (name === 'keychain') continue; // resolved by the worker, never snapshotted
      const value = lookup(name);
      if (value !== undefined) out[name] = value;
    }
  };
  take(namesReadBy(step));
  if (extraNames.length > 0) take(extraNames);
  return out;
}

/**
 * Keychain entries a step reads, found by the `keychain.<name>` references in its templates (an
 * entry may read another, e.g. a bearer token built from a static map). Unrendered.
 */
export function keychainReadBy(playbook: Playbook, step: Step): readonly KeychainEntry[] {
  if (playbook.keychain.length === 0 || !namesReadBy(step).includes('keychain')) return [];
  const wanted = new Set<string>();
  const refs = (value: unknown): void => {
    const text = JSON.stringify(value) ?? '';
    for (const m of text.matchAll(/keychain\.([A-Za-z_][A-Za-z0-9_]*)/g)) wanted.add(m[1]!);
    for (const m of text.matchAll(/keychain\[\s*\\?["']([^"'\\]+)\\?["']\s*\]/g)) wanted.add(m[1]!);
  };
  refs(step.tool);
  refs(step.args);
  let size = -1;
  while (size !== wanted.size) {
    size = wanted.size;
    for (const entry of playbook.keychain) if (wanted.has(entry.name)) refs(entry.fields);
  }
  return playbook.keychain.filter((entry) => wanted.has(entry.name));
}

/** Root names the templates of keychain entries read (rendered with the command's context). */
export function namesReadByKeychain(entries: readonly KeychainEntry[]): readonly string[] {
  if (entries.length === 0) return NO_NAMES;
  const names = new Set<string>();
  for (const entry of entries) collect(entry.fields, names);
  return [...names];
}
