import { ValidationError } from '../shared/index.js';
import { checkToolKeys } from './known-keys.js';
import { outputFromJson } from './normalize-output.js';
import { normalizePolicy, normalizeRules, rawPolicy } from './normalize-policy.js';
import { didYouMean, has, isMap, present, show, type Path, type RawMap } from './raw.js';
import { DiagnosticCollector, SILENT, type Reporter } from './reporter.js';
import { UNAVAILABLE_TOOL_KINDS, type Policy, type Task, type ToolSpec } from './types.js';

export interface ToolOptions {
  /** Accepted tool kinds; no kind check when absent. */
  readonly kinds?: ReadonlySet<string>;
  /** Workbook entries by name (their raw tool maps); `kind: workbook` is resolved when given. */
  readonly workbook?: ReadonlyMap<string, RawMap>;
}

/** Keys of a tool map that are not part of its config. */
const NOT_CONFIG: ReadonlySet<string> = new Set(['name', 'kind', 'set', 'spec', 'eval']);

function checkKind(raw: RawMap, path: Path, rep: Reporter, kinds: ReadonlySet<string> | undefined): string {
  if (!has(raw, 'kind') || raw.kind === null) {
    rep.error('MISSING_FIELD', path, 'a tool needs `kind:` (e.g. python, http, postgres)');
    return '';
  }
  const kind = raw.kind;
  if (typeof kind !== 'string' || kind === '') {
    rep.error('INVALID_TYPE', [...path, 'kind'], '`kind` must be a tool kind name');
    return '';
  }
  if (kinds && !kinds.has(kind))
    rep.error(
      'UNKNOWN_TOOL_KIND',
      [...path, 'kind'],
      `unknown tool kind ${show(kind)}${didYouMean(kind, kinds)}`,
    );
  const unavailable = UNAVAILABLE_TOOL_KINDS.get(kind);
  if (unavailable !== undefined)
    rep.warning(
      'TOOL_UNAVAILABLE',
      [...path, 'kind'],
      `tool kind ${show(kind)} is not available here: ${unavailable}; a step using it fails when it runs`,
    );
  return kind;
}

/** Checks the templates of a tool map; policy conditions are checked by the policy reader. */
function checkToolTemplates(raw: RawMap, path: Path, rep: Reporter): void {
  for (const [key, value] of Object.entries(raw)) {
    if (key === 'kind' || key === 'name' || key === 'eval') continue;
    if (key === 'spec' && isMap(value)) {
      for (const [k, v] of Object.entries(value)) if (k !== 'policy') rep.templates(v, [...path, 'spec', k]);
    } else {
      rep.templates(value, [...path, key]);
    }
  }
}

function taskFromMap(
  raw: RawMap,
  label: string,
  path: Path,
  rep: Reporter,
  opts: ToolOptions,
  labels: ReadonlySet<string>,
): Task {
  if (raw.kind === 'workbook' && opts.workbook) return resolveWorkbook(raw, label, path, rep, opts, labels);
  const kind = checkKind(raw, path, rep, opts.kinds);
  checkToolKeys(raw, path, rep);
  checkToolTemplates(raw, path, rep);

  const spec = present(raw, 'spec');
  if (spec !== undefined && spec !== null && !isMap(spec))
    rep.error('INVALID_TYPE', [...path, 'spec'], '`spec` must be a map');
  const config: RawMap = {};
  for (const [k, v] of Object.entries(raw)) if (!NOT_CONFIG.has(k)) config[k] = v;
  if (isMap(spec)) {
    // keys under `spec:` sit beside the tool's own keys; the tool's own keys win
    for (const [k, v] of Object.entries(spec)) if (k !== 'policy' && !has(config, k)) config[k] = v;
  }

  let policy: Policy | undefined = isMap(spec)
    ? normalizePolicy(present(spec, 'policy'), [...path, 'spec', 'policy'], rep, labels)
    : undefined;
  const legacyEval = present(raw, 'eval');
  if (legacyEval !== undefined) {
    if (policy)
      rep.warning('POLICY_INVALID', [...path, 'eval'], 'legacy `eval` is ignored: `spec.policy` is set');
    else policy = normalizeRules(legacyEval, [...path, 'eval'], rep, labels);
  }

  const set = present(raw, 'set');
  if (set !== undefined && set !== null && !isMap(set))
    rep.error('INVALID_TYPE', [...path, 'set'], '`set` must be a map of `key: template`');

  return {
    label,
    kind,
    config,
    ...(policy ? { policy } : {}),
    ...(isMap(set) ? { set } : {}),
  };
}

/** The workbook tool with the reference's keys laid over it; `input` and `spec` maps merge. */
function mergeWorkbook(entry: RawMap, ref: RawMap): RawMap {
  const out: RawMap = { ...entry };
  for (const [k, v] of Object.entries(ref)) {
    if (k === 'kind' || k === 'name') continue;
    const base = out[k];
    out[k] = (k === 'input' || k === 'spec') && isMap(base) && isMap(v) ? { ...base, ...v } : v;
  }
  return out;
}

/**
 * `tool: {kind: workbook, name: X, input: {...}}` becomes workbook entry X's tool with the input
 * maps merged, the reference's input winning (contract 1.6). Other keys of the reference (`spec`,
 * `set`...) are laid over the entry's. Problems of the entry are reported once, at the entry.
 */
function resolveWorkbook(
  raw: RawMap,
  label: string,
  path: Path,
  rep: Reporter,
  opts: ToolOptions,
  labels: ReadonlySet<string>,
): Task {
  const workbook = opts.workbook ?? new Map<string, RawMap>();
  const name = present(raw, 'name');
  const unresolved: Task = { label, kind: 'workbook', config: { ...raw } };
  if (typeof name !== 'string' || name === '') {
    rep.error('MISSING_FIELD', path, '`kind: workbook` needs `name:` naming a workbook entry');
    return unresolved;
  }
  const entry = workbook.get(name);
  if (!entry) {
    const names = [...workbook.keys()];
    const available = names.length
      ? `available: ${names.join(', ')}`
      : 'the playbook has no `workbook` entries';
    rep.error(
      'UNKNOWN_WORKBOOK',
      [...path, 'name'],
      `workbook entry ${show(name)} is not defined${didYouMean(name, names)} (${available})`,
    );
    return unresolved;
  }
  const plain: ToolOptions = opts.kinds ? { kinds: opts.kinds } : {};
  // the reference's own keys, checked where they are written
  const entryKind = typeof entry.kind === 'string' && entry.kind !== '' ? entry.kind : 'workbook';
  const own: RawMap = { ...raw, kind: entryKind };
  delete own.name;
  taskFromMap(own, label, path, rep, {}, labels);
  return taskFromMap(mergeWorkbook(entry, raw), label, path, SILENT, plain, labels);
}

interface Item {
  readonly label: string;
  readonly raw: RawMap;
  readonly path: Path;
}

function pipelineItems(list: readonly unknown[], path: Path, rep: Reporter): Item[] {
  const items: Item[] = [];
  const seen = new Set<string>();
  list.forEach((item, i) => {
    const at = [...path, i];
    if (!isMap(item)) {
      rep.error('INVALID_TYPE', at, 'a pipeline item must be a map `{name: label, kind: ...}`');
      return;
    }
    let found: Item | undefined;
    if (has(item, 'kind')) {
      const name = present(item, 'name');
      if (name !== undefined && (typeof name !== 'string' || name === ''))
        rep.error('INVALID_TYPE', [...at, 'name'], '`name` (the task label) must be a string');
      found = { label: typeof name === 'string' && name !== '' ? name : `task_${i}`, raw: item, path: at };
    } else {
      const keys = Object.keys(item);
      const only = keys.length === 1 ? keys[0] : undefined;
      const inner = only === undefined ? undefined : item[only];
      if (only !== undefined && isMap(inner)) found = { label: only, raw: inner, path: [...at, only] };
      else
        rep.error(
          'MISSING_FIELD',
          at,
          'a pipeline item needs `kind:` (`- name: label` + `kind: ...`) or one `label: {kind: ...}` key',
        );
    }
    if (!found) return;
    if (seen.has(found.label))
      rep.error('DUPLICATE_NAME', at, `task label ${show(found.label)} is used twice in this pipeline`);
    seen.add(found.label);
    items.push(found);
  });
  return items;
}

/** An already normalised ToolSpec serialised as JSON (`{shape, tasks: [{label, kind, config}]}`). */
function isToolSpecJson(raw: RawMap): raw is RawMap & { tasks: unknown[] } {
  return (
    (raw.shape === 'single' || raw.shape === 'pipeline') && Array.isArray(raw.tasks) && !has(raw, 'kind')
  );
}

/** One task of a ToolSpec JSON back into the raw flat form. */
function specTaskToRaw(task: RawMap): RawMap {
  const out: RawMap = { name: task.label, kind: task.kind };
  const spec: RawMap = {};
  if (isMap(task.config))
    for (const [k, v] of Object.entries(task.config)) {
      if (NOT_CONFIG.has(k)) spec[k] = v;
      else out[k] = v;
    }
  if (task.set !== undefined) out.set = task.set;
  const rules = isMap(task.policy) ? task.policy.rules : undefined;
  if (Array.isArray(rules))
    spec.policy = {
      rules: rules.map((r: unknown) =>
        isMap(r) && r.isElse === true
          ? { else: { then: r.then } }
          : isMap(r)
            ? { when: r.when, then: r.then }
            : r,
      ),
    };
  if (Object.keys(spec).length > 0) out.spec = spec;
  return out;
}

/** A ToolSpec JSON back into a raw tool and the label of its single task. */
function fromToolSpecJson(
  raw: RawMap & { tasks: unknown[] },
  label: string,
): { raw: unknown; label: string } {
  const items = raw.tasks.map((t) => (isMap(t) ? specTaskToRaw(t) : t));
  const first = raw.tasks[0];
  const item = items[0];
  if (raw.shape !== 'single' || items.length !== 1 || !isMap(item)) return { raw: items, label };
  const task: RawMap = { ...item };
  delete task.name;
  return { raw: task, label: isMap(first) && typeof first.label === 'string' ? first.label : label };
}

/** Normalises a raw `tool` (map, list of flat items, list of `label: {...}` items). */
export function normalizeToolAt(
  raw: unknown,
  label: string,
  path: Path,
  rep: Reporter,
  opts: ToolOptions = {},
): ToolSpec | undefined {
  if (isMap(raw)) {
    const wire = raw.kind === 'task_sequence' ? (present(raw, 'tasks') ?? present(raw, 'config')) : undefined;
    if (Array.isArray(wire)) return normalizeToolAt(wire, label, path, rep, opts);
    return { shape: 'single', tasks: [taskFromMap(raw, label, path, rep, opts, new Set([label]))] };
  }
  if (Array.isArray(raw)) {
    if (raw.length === 0) {
      rep.error('INVALID_TYPE', path, 'a pipeline `tool` needs at least one task');
      return undefined;
    }
    const items = pipelineItems(raw, path, rep);
    const labels = new Set(items.map((i) => i.label));
    return {
      shape: 'pipeline',
      tasks: items.map((i) => taskFromMap(i.raw, i.label, i.path, rep, opts, labels)),
    };
  }
  const hint = typeof raw === 'string' ? ` (legacy string form: write \`tool: {kind: ${raw}, ...}\`)` : '';
  rep.error('INVALID_TYPE', path, `\`tool\` must be a map \`{kind: ...}\` or a list of tasks${hint}`);
  return undefined;
}

/**
 * Rebuilds a ToolSpec from a raw tool config stored with a command: a raw `tool` (map or list),
 * the `task_sequence` wire form, or a ToolSpec serialised as JSON. A single raw tool takes
 * `fallbackLabel` as its label. Kinds are not checked (the tool registry does that). Throws a
 * ValidationError listing every problem.
 */
export function normalizeTool(raw: unknown, fallbackLabel: string): ToolSpec {
  const rep = new DiagnosticCollector();
  const input =
    isMap(raw) && isToolSpecJson(raw) ? fromToolSpecJson(raw, fallbackLabel) : { raw, label: fallbackLabel };
  const tool = normalizeToolAt(input.raw, input.label, [], rep);
  const errors = rep.list().filter((d) => d.severity === 'error');
  if (!tool || errors.length > 0) {
    const lines = errors.map((d) => (d.path ? `${d.path}: ${d.message}` : d.message));
    throw new ValidationError(`invalid tool: ${lines.join('; ')}`, { details: { diagnostics: errors } });
  }
  const output = isMap(raw) && isToolSpecJson(raw) ? outputFromJson(raw.output) : undefined;
  return output ? { ...tool, output } : tool;
}

function rawTask(task: Task): RawMap {
  const out: RawMap = { kind: task.kind };
  const spec: RawMap = {};
  for (const [k, v] of Object.entries(task.config)) {
    // reserved names go under `spec:`, from where they are hoisted back into the config
    if (NOT_CONFIG.has(k)) spec[k] = v;
    else out[k] = v;
  }
  if (task.set) out.set = task.set;
  if (task.policy) spec.policy = rawPolicy(task.policy);
  if (Object.keys(spec).length > 0) out.spec = spec;
  return out;
}

/**
 * The canonical raw form of a tool: a map for a single tool, a list of `{name: label, kind, ...}`
 * items for a pipeline. `normalizeTool(rawToolConfig(t), label)` gives `t` back.
 */
export function rawToolConfig(tool: ToolSpec): RawMap | RawMap[] {
  if (tool.shape === 'single' && tool.tasks.length === 1) return rawTask(tool.tasks[0]!);
  return tool.tasks.map((t) => ({ name: t.label, ...rawTask(t) }));
}
