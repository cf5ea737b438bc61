import { isPlainObject } from '../shared/index.js';
import type { TemplateScope } from '../template/index.js';

/**
 * The running variables of one pipeline run (contract 1.9, 1.10): results by label, values written
 * by `set`, the `iter` namespace and the execution `ctx` overlaid with this run's updates.
 */
export class PipelineState {
  /**
   * Results by label and bare values written by `set`. Maps, not objects: labels are step names,
   * and an object given a new key per step made V8 build a hidden class per step.
   */
  readonly vars = new Map<string, unknown>();
  /** Task data by label, in the order the tasks last completed. */
  readonly results = new Map<string, unknown>();
  readonly iter: Record<string, unknown>;
  /** `ctx.*`, `step.*` and bare keys written by `set`; returned as `context_updates`. */
  readonly contextUpdates: Record<string, unknown> = {};
  private readonly baseCtx: Readonly<Record<string, unknown>>;

  constructor(private readonly base: TemplateScope) {
    const iter = lookupScope(base, 'iter');
    this.iter = isPlainObject(iter) ? { ...iter } : {};
    const ctx = lookupScope(base, 'ctx');
    this.baseCtx = isPlainObject(ctx) ? ctx : {};
  }

  ctx(): Record<string, unknown> {
    return { ...this.baseCtx, ...this.contextUpdates };
  }

  record(label: string, data: unknown): void {
    this.results.delete(label);
    this.results.set(label, data);
    this.vars.set(label, data);
  }

  /**
   * Applies rendered `set` values: `iter.X` to the pipeline's iteration namespace; `ctx.X`,
   * `step.X` and bare keys (scope prefix stripped) to the running context and `context_updates`.
   */
  applySet(values: Readonly<Record<string, unknown>>): void {
    for (const [key, value] of Object.entries(values)) {
      const dot = key.indexOf('.');
      const scope = dot > 0 ? key.slice(0, dot) : '';
      const name = dot > 0 ? key.slice(dot + 1) : key;
      if (scope === 'iter') {
        this.iter[name] = value;
      } else if (scope === 'ctx' || scope === 'step') {
        this.contextUpdates[name] = value;
        this.vars.set(name, value);
      } else {
        this.contextUpdates[key] = value;
        this.vars.set(key, value);
      }
    }
  }

  /**
   * The render scope of a task: `layers` (input locals, `output`, `_attempt`) first, then `iter`,
   * `ctx`, the running variables, then the base scope.
   */
  scope(...layers: readonly Readonly<Record<string, unknown>>[]): TemplateScope {
    return (name: string): unknown => {
      for (const layer of layers) {
        if (Object.prototype.hasOwnProperty.call(layer, name)) return layer[name];
      }
      if (name === 'iter') return this.iter;
      if (name === 'ctx') return this.ctx();
      if (this.vars.has(name)) return this.vars.get(name);
      return lookupScope(this.base, name);
    };
  }
}

export function lookupScope(scope: TemplateScope, name: string): unknown {
  if (typeof scope === 'function') return scope(name);
  return Object.prototype.hasOwnProperty.call(scope, name) ? scope[name] : undefined;
}
