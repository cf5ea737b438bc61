import type { Playbook } from '../dsl/index.js';

/**
 * Static facts about a playbook's arcs, computed once per playbook: back-edges (arcs to a step on
 * the DFS path from the entry, i.e. workflow loops), forward upstreams per step (for fan-in
 * barriers) and forward reachability.
 */
export interface PlaybookGraph {
  /** `from->to` keys of back-edges. */
  readonly backEdges: ReadonlySet<string>;
  /** Forward (non back-edge) upstream steps of each step. */
  readonly upstreams: ReadonlyMap<string, readonly string[]>;
  /** Steps that are the source of at least one back-edge (loop branch points). */
  readonly branchPoints: ReadonlySet<string>;
  /** Successors by arc (all arcs). */
  readonly successors: ReadonlyMap<string, readonly string[]>;
  /** Strongly connected component of each step (steps on one cycle share it). */
  readonly component: ReadonlyMap<string, number>;
  /** Steps with an arc to themselves. */
  readonly selfLoops: ReadonlySet<string>;
}

/** By playbook, then by entry step (the DFS that finds back-edges starts at the entry). */
const cache = new WeakMap<Playbook, Map<string, PlaybookGraph>>();

export function edgeKey(from: string, to: string): string {
  return `${from}->${to}`;
}

export function graphOf(playbook: Playbook, entry: string): PlaybookGraph {
  let byEntry = cache.get(playbook);
  const hit = byEntry?.get(entry);
  if (hit) return hit;
  const successors = new Map<string, string[]>();
  for (const step of playbook.workflow) {
    const targets: string[] = [];
    for (const arc of step.next?.arcs ?? []) if (!targets.includes(arc.step)) targets.push(arc.step);
    successors.set(step.name, targets);
  }
  const backEdges = new Set<string>();
  const branchPoints = new Set<string>();
  // Iterative DFS from the entry, then from any step not yet visited (YAML order).
  const state = new Map<string, 'open' | 'done'>();
  const visit = (root: string): void => {
    const stack: { node: string; next: number }[] = [{ node: root, next: 0 }];
    state.set(root, 'open');
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const succ = successors.get(top.node) ?? [];
      if (top.next >= succ.length) {
        state.set(top.node, 'done');
        stack.pop();
        continue;
      }
      const to = succ[top.next++]!;
      const seen = state.get(to);
      if (seen === 'open') {
        backEdges.add(edgeKey(top.node, to));
        branchPoints.add(top.node);
      } else if (seen === undefined && successors.has(to)) {
        state.set(to, 'open');
        stack.push({ node: to, next: 0 });
      }
    }
  };
  if (successors.has(entry)) visit(entry);
  for (const step of playbook.workflow) if (!state.has(step.name)) visit(step.name);

  const upstreams = new Map<string, string[]>();
  for (const [from, targets] of successors) {
    for (const to of targets) {
      if (backEdges.has(edgeKey(from, to))) continue;
      const list = upstreams.get(to) ?? [];
      if (!list.includes(from)) list.push(from);
      upstreams.set(to, list);
    }
  }
  const selfLoops = new Set<string>();
  for (const [from, targets] of successors) if (targets.includes(from)) selfLoops.add(from);
  const graph: PlaybookGraph = {
    backEdges,
    upstreams,
    branchPoints,
    successors,
    component: components(successors),
    selfLoops,
  };
  if (!byEntry) cache.set(playbook, (byEntry = new Map<string, PlaybookGraph>()));
  byEntry.set(entry, graph);
  return graph;
}

/**
 * Whether two steps joined by an arc lie on one cycle (the target can reach the source again): for
 * the steps of one arc that means the same strongly connected component.
 */
export function onOneCycle(graph: PlaybookGraph, a: string, b: string): boolean {
  const ca = graph.component.get(a);
  return ca !== undefined && ca === graph.component.get(b) && (a !== b || graph.selfLoops.has(a));
}

/** Steps reachable from `sources` by following arcs (sources included). */
export function reachableFrom(graph: PlaybookGraph, sources: Iterable<string>): Set<string> {
  const seen = new Set<string>();
  const queue = [...sources];
  while (queue.length > 0) {
    const node = queue.pop()!;
    if (seen.has(node)) continue;
    seen.add(node);
    for (const next of graph.successors.get(node) ?? []) if (!seen.has(next)) queue.push(next);
  }
  return seen;
}

/** Tarjan's strongly connected components, iterative (playbooks may have 10,000s of steps). */
function components(successors: ReadonlyMap<string, readonly string[]>): Map<string, number> {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const component = new Map<string, number>();
  let counter = 0;
  let next = 0;
  for (const root of successors.keys()) {
    if (index.has(root)) continue;
    const work: { node: string; i: number }[] = [{ node: root, i: 0 }];
    index.set(root, counter);
    low.set(root, counter++);
    stack.push(root);
    onStack.add(root);
    while (work.length > 0) {
      const frame = work[work.length - 1]!;
      const succ = successors.get(frame.node) ?? [];
      if (frame.i < succ.length) {
        const to = succ[frame.i++]!;
        if (!successors.has(to)) continue;
        if (!index.has(to)) {
          index.set(to, counter);
          low.set(to, counter++);
          stack.push(to);
          onStack.add(to);
          work.push({ node: to, i: 0 });
        } else if (onStack.has(to)) {
          low.set(frame.node, Math.min(low.get(frame.node)!, index.get(to)!));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.node, Math.min(low.get(parent.node)!, low.get(frame.node)!));
      if (low.get(frame.node) === index.get(frame.node)) {
        let member: string;
        do {
          member = stack.pop()!;
          onStack.delete(member);
          component.set(member, next);
        } while (member !== frame.node);
        next++;
      }
    }
  }
  return component;
}
