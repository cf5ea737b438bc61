import { checkCycles } from './check-cycles.js';
import type { ArcRef } from './normalize-next.js';
import { didYouMean, show } from './raw.js';
import type { Reporter } from './reporter.js';
import type { ExecutorSpec, Step } from './types.js';

export interface GraphInput {
  /** Steps by name (first definition wins) with their index in `workflow`. */
  readonly steps: ReadonlyMap<string, { readonly step: Step; readonly index: number }>;
  readonly refs: readonly ArcRef[];
  readonly executor: ExecutorSpec | undefined;
}

/**
 * Whole-workflow checks: an entry step exists, every arc target and executor step is defined,
 * and every step can be reached from an entry (a warning: an unreachable step never runs).
 */
export function checkGraph(input: GraphInput, rep: Reporter): void {
  const { steps, refs, executor } = input;
  const names = [...steps.keys()];
  const roots: string[] = [];
  if (steps.has('start')) roots.push('start');

  for (const [key, name] of [
    ['entry_step', executor?.entryStep],
    ['final_step', executor?.finalStep],
  ] as const) {
    if (name === undefined) continue;
    if (steps.has(name)) roots.push(name);
    else
      rep.error(
        'UNDEFINED_STEP',
        ['executor', 'spec', key],
        `executor.spec.${key} names undefined step ${show(name)}${didYouMean(name, names)}`,
      );
  }
  const entry = executor?.entryStep;
  const hasEntry = steps.has('start') || (entry !== undefined && steps.has(entry));
  if (!hasEntry)
    rep.error(
      'NO_START_STEP',
      ['workflow'],
      'the workflow has no step named `start` (or set `executor.spec.entry_step`)',
    );

  const edges = new Map<string, string[]>();
  for (const ref of refs) {
    if (!steps.has(ref.to)) {
      rep.error(
        'UNDEFINED_STEP',
        ref.path,
        `step '${ref.from}' routes to undefined step ${show(ref.to)}${didYouMean(ref.to, names)}`,
      );
      continue;
    }
    const list = edges.get(ref.from) ?? [];
    list.push(ref.to);
    edges.set(ref.from, list);
  }

  if (!hasEntry) return;
  const reached = new Set<string>(roots);
  const queue = [...roots];
  for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
    for (const to of edges.get(name) ?? []) {
      if (!reached.has(to)) {
        reached.add(to);
        queue.push(to);
      }
    }
  }
  for (const [name, { index }] of steps) {
    if (!reached.has(name))
      rep.warning(
        'UNREACHABLE_STEP',
        ['workflow', index, 'step'],
        `step '${name}' is not reachable from the entry step`,
      );
  }
  checkCycles(steps, rep);
}
