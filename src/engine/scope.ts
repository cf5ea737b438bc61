import { nowValue, type TemplateScope } from '../template/index.js';
import type { ExecutionState } from './state.js';

/**
 * The execution context templates see (contract 1.11), as a lookup so a render touches only the
 * names it reads. Precedence: the overlay (iteration vars, arc `set`, `output`, `event`), then
 * execution variables from `set`, then completed steps' data, then workload keys.
 *
 * `ctx` is the flat context of workload keys overlaid with `set` variables (we leave step results
 * out of it, so `{{ ctx }}` stays small); `workload` is the execution's workload.
 */
export function executionScope(
  state: ExecutionState,
  overlay?: Readonly<Record<string, unknown>>,
): TemplateScope {
  let ctxView: Record<string, unknown> | undefined;
  const ctx = (): Record<string, unknown> => {
    if (ctxView === undefined) {
      ctxView = { ...state.workload, ...state.vars };
      const extra = overlay?.['ctx'];
      if (extra !== null && typeof extra === 'object' && !Array.isArray(extra)) Object.assign(ctxView, extra);
    }
    return ctxView;
  };
  return (name: string): unknown => {
    if (overlay && name !== 'ctx' && Object.prototype.hasOwnProperty.call(overlay, name))
      return overlay[name];
    switch (name) {
      case 'ctx':
        return ctx();
      case 'workload':
        return state.workload;
      case 'execution_id':
        return state.executionId;
      case 'catalog_id':
        return state.catalogId;
      case 'path':
        return state.path;
      case 'version':
        return state.version;
      case 'steps':
        return stepsView(state);
      default:
        break;
    }
    if (Object.prototype.hasOwnProperty.call(state.vars, name)) return state.vars[name];
    const step = state.steps.get(name);
    if (step && (step.status === 'completed' || step.data !== undefined)) return step.view ?? step.data;
    if (Object.prototype.hasOwnProperty.call(state.workload, name)) return state.workload[name];
    // `now()`: the execution's start, the same in every template of it (and in a replay)
    if (name === 'now' && state.startedAt !== undefined) return nowValue(state.startedAt);
    return undefined;
  };
}

const REFERENCE_RE = /^\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*\}\}$/;

/** The dotted name a template is made of alone (`{{ workload.items }}`), or undefined. */
export function bareReference(source: unknown): string | undefined {
  return typeof source === 'string' ? REFERENCE_RE.exec(source.trim())?.[1] : undefined;
}

/** A dotted name's value in a scope, through plain objects' own keys only; undefined if absent. */
export function lookupReference(scope: TemplateScope, reference: string): unknown {
  const [first, ...rest] = reference.split('.');
  let value = typeof scope === 'function' ? scope(first!) : scope[first!];
  for (const key of rest) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
    if (!Object.prototype.hasOwnProperty.call(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

function stepsView(state: ExecutionState): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, s] of state.steps) {
    if (s.status === 'completed' || s.status === 'failed') {
      out[name] = { status: s.status === 'completed' ? 'COMPLETED' : 'FAILED', data: s.data, error: s.error };
    }
  }
  return out;
}
