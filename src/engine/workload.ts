import type { KeychainEntry, Step } from '../dsl/index.js';
import { isTemplate, scanTemplate } from '../template/index.js';
import type { ExecutionState } from './state.js';

/**
 * Lazy workload (issue 11 item 8): a workload value whose template fails to render at start is
 * left out and recorded (`playbook_started` `context.workload_errors`); only a step that reads it
 * fails, with that error. A value no step reads never fails a run.
 */

const textCache = new WeakMap<Step, readonly string[]>();

/** Every template of a step (config, `when`, loop, `set`, `args`, arcs), bare `when`s wrapped. */
function templatesOf(step: Step): readonly string[] {
  const hit = textCache.get(step);
  if (hit) return hit;
  const out: string[] = [];
  const walk = (value: unknown, key?: string): void => {
    if (typeof value === 'string') {
      if (isTemplate(value)) out.push(value);
      else if (key === 'when' && value.trim() !== '') out.push(`{{ ${value} }}`);
    } else if (Array.isArray(value)) {
      for (const v of value) walk(v);
    } else if (value !== null && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) {
        if (isTemplate(k)) out.push(k);
        walk(v, k);
      }
    }
  };
  walk({
    when: step.when,
    loop: step.loop,
    tool: step.tool,
    input: step.input,
    set: step.set,
    args: step.args,
    next: step.next,
  });
  textCache.set(step, out);
  return out;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Whether `source` reads workload key `key` (`workload.key`, `ctx['key']`, `workload.get('key')`,
 * a bare `key`).
 */
function reads(source: string, key: string, bareVisible: boolean): boolean {
  const names = scanTemplate(source).names;
  if (bareVisible && names.includes(key)) return true;
  if (!names.includes('workload') && !names.includes('ctx')) return false;
  const k = escape(key);
  if (
    new RegExp(
      `\\b(?:workload|ctx)\\s*(?:\\.\\s*${k}\\b|\\[\\s*["']${k}["']\\s*\\]|\\.\\s*get\\s*\\(\\s*["']${k}["'])`,
    ).test(source)
  )
    return true;
  // the whole map (`{{ workload | tojson }}`) holds every key; only code inside blocks counts
  const code = [...source.matchAll(/\{\{([\s\S]*?)\}\}|\{%([\s\S]*?)%\}/g)]
    .map((m) => m[1] ?? m[2] ?? '')
    .join(' ')
    .replace(/(["'])(?:\\.|(?!\1).)*\1/g, '""');
  return /\b(?:workload|ctx)\b(?!\s*[.[])/.test(code);
}

/**
 * The first workload key with a render error that `step` (or a keychain entry it uses) reads,
 * with its error; undefined when it reads none.
 */
export function workloadErrorReadBy(
  state: ExecutionState,
  step: Step,
  keychain: readonly KeychainEntry[] = [],
): { key: string; code: string; message: string } | undefined {
  const errors = state.workloadErrors;
  const keys = Object.keys(errors);
  if (keys.length === 0) return undefined;
  const sources = [...templatesOf(step)];
  for (const entry of keychain) {
    for (const v of Object.values(entry.fields)) if (typeof v === 'string' && isTemplate(v)) sources.push(v);
  }
  for (const key of keys) {
    // a bare name reaches the workload only when no variable or step result of that name hides it
    const bareVisible = !Object.prototype.hasOwnProperty.call(state.vars, key) && !state.steps.has(key);
    if (sources.some((source) => reads(source, key, bareVisible))) return { key, ...errors[key]! };
  }
  return undefined;
}
