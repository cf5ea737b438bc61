import type { Reporter } from './reporter.js';
import type { Arc, Step } from './types.js';

type StepsByName = ReadonlyMap<string, { readonly step: Step; readonly index: number }>;

const always = (arc: Arc): boolean => arc.when === undefined || arc.when === true;

/**
 * Whether a step, each time it completes, surely routes to another step of `cycle`: it has no
 * `when` of its own and, in exclusive mode, the arcs it may take in order end with an arc
 * without `when` and none of them leaves the cycle; in inclusive mode, an arc without `when`
 * stays in it.
 */
function alwaysContinues(step: Step, cycle: ReadonlySet<string>): boolean {
  if (step.when !== undefined && step.when !== true) return false;
  const next = step.next;
  if (!next) return false;
  if (next.mode === 'inclusive') return next.arcs.some((arc) => always(arc) && cycle.has(arc.step));
  for (const arc of next.arcs) {
    if (arc.when === false) continue;
    if (!cycle.has(arc.step)) return false;
    if (always(arc)) return true;
  }
  return false;
}

/**
 * Cycles nothing can stop (CYCLE_WITHOUT_EXIT, a warning): a strongly connected component of
 * the arcs in which every step always routes on into the component, and at least one step runs
 * a tool (a cycle of router steps ends within one decision). At run time such a cycle goes on
 * until the execution's step budget fails it (STEP_BUDGET_EXCEEDED).
 */
export function checkCycles(steps: StepsByName, rep: Reporter): void {
  for (const members of stronglyConnected(steps)) {
    const first = steps.get(members[0]!)!;
    const cyclic =
      members.length > 1 || (first.step.next?.arcs.some((arc) => arc.step === members[0]) ?? false);
    if (!cyclic) continue;
    const cycle = new Set(members);
    const list = members.map((name) => steps.get(name)!.step);
    if (!list.some((s) => s.tool !== undefined || s.loop !== undefined)) continue;
    if (!list.every((s) => alwaysContinues(s, cycle))) continue;
    const names = members.map((name) => `'${name}'`).join(', ');
    rep.warning(
      'CYCLE_WITHOUT_EXIT',
      ['workflow', first.index, 'next'],
      `steps ${names} form a cycle without an exit: every arc they always take leads back into it ` +
        '(give one a `when` that can become false); it runs until the step budget fails the execution',
    );
  }
}

/** Tarjan's components, iterative, members in workflow order. */
function stronglyConnected(steps: StepsByName): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const out: string[][] = [];
  let counter = 0;
  const successors = (name: string): string[] =>
    (steps.get(name)?.step.next?.arcs ?? []).map((a) => a.step).filter((to) => steps.has(to));
  for (const root of steps.keys()) {
    if (index.has(root)) continue;
    const work: { node: string; succ: string[]; i: number }[] = [];
    const open = (node: string): void => {
      index.set(node, counter);
      low.set(node, counter++);
      stack.push(node);
      onStack.add(node);
      work.push({ node, succ: successors(node), i: 0 });
    };
    open(root);
    while (work.length > 0) {
      const frame = work[work.length - 1]!;
      if (frame.i < frame.succ.length) {
        const to = frame.succ[frame.i++]!;
        if (!index.has(to)) open(to);
        else if (onStack.has(to)) low.set(frame.node, Math.min(low.get(frame.node)!, index.get(to)!));
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.node, Math.min(low.get(parent.node)!, low.get(frame.node)!));
      if (low.get(frame.node) !== index.get(frame.node)) continue;
      const members: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        members.push(member);
      } while (member !== frame.node);
      out.push(members.sort((a, b) => steps.get(a)!.index - steps.get(b)!.index));
    }
  }
  return out;
}
