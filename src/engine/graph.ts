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
}

const cache = new WeakMap<Playbook, PlaybookGraph>();

export function edgeKey(from: string, to: string): string {
  return `${from}->${to}`;
}

export function graphOf(playbook: Playbook, entry: string): PlaybookGraph {
  const hit = cache.get(playbook);
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
  const graph: PlaybookGraph = { backEdges, upstreams, branchPoints, successors };
  cache.set(playbook, graph);
  return graph;
}

const reachCache = new WeakMap<PlaybookGraph, Map<string, Set<string>>>();

/** Whether `to` is reachable from `from` along arcs (a step re-entered on a cycle can). */
export function canReach(graph: PlaybookGraph, from: string, to: string): boolean {
  let perGraph = reachCache.get(graph);
  if (!perGraph) {
    perGraph = new Map();
    reachCache.set(graph, perGraph);
  }
  let set = perGraph.get(from);
  if (!set) {
    set = reachableFrom(graph, [from]);
    perGraph.set(from, set);
  }
  return set.has(to);
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
