import dagre from '@dagrejs/dagre';
import type { PlaybookGraph } from '../api/types.js';

export interface LaidNode {
  name: string;
  kind: string;
  x: number;
  y: number;
  width: number;
  height: number;
  loop: boolean;
  fanIn: boolean;
  entry: boolean;
}

export interface LaidEdge {
  from: string;
  to: string;
  when: string | null;
  points: { x: number; y: number }[];
  labelX: number | null;
  labelY: number | null;
  back: boolean;
}

export interface Layout {
  nodes: LaidNode[];
  edges: LaidEdge[];
  width: number;
  height: number;
}

export const NODE_W = 190;
export const NODE_H = 58;
const LABEL_MAX = 28;

export function shortWhen(when: string): string {
  const t = when.replace(/^\{\{\s*|\s*\}\}$/g, '').trim();
  return t.length > LABEL_MAX ? `${t.slice(0, LABEL_MAX - 1)}…` : t;
}

/** Layered layout (dagre) of a playbook graph: top to bottom, arcs with their `when`. */
export function layoutGraph(graph: PlaybookGraph): Layout {
  const g = new dagre.graphlib.Graph({ multigraph: true });
  const big = graph.steps.length > 150;
  g.setGraph({
    rankdir: 'TB',
    nodesep: 24,
    ranksep: big ? 40 : 56,
    edgesep: 12,
    marginx: 16,
    marginy: 16,
    ...(big ? { ranker: 'tight-tree' as const } : {}),
  });
  g.setDefaultEdgeLabel(() => ({}));
  for (const s of graph.steps) g.setNode(s.name, { width: NODE_W, height: NODE_H });
  graph.arcs.forEach((a, i) => {
    if (!g.hasNode(a.from) || !g.hasNode(a.to)) return;
    const label = a.when ? shortWhen(a.when) : '';
    g.setEdge(
      a.from,
      a.to,
      label ? { width: Math.min(LABEL_MAX, label.length) * 6.2 + 8, height: 16, labelpos: 'c' } : {},
      String(i),
    );
  });
  // Above ~150 steps dagre's crossing-minimisation sweeps dominate (seconds for 500 steps on a slow
  // machine); the simpler ordering keeps a 500-step graph well under the 1.5 s budget.
  dagre.layout(g, big ? { disableOptimalOrderHeuristic: true } : undefined);
  const byName = new Map(graph.steps.map((s) => [s.name, s]));
  const nodes: LaidNode[] = g.nodes().map((name: string) => {
    const n = g.node(name) as { x: number; y: number; width: number; height: number };
    const s = byName.get(name);
    return {
      name,
      kind: s?.kind ?? '',
      x: n.x - n.width / 2,
      y: n.y - n.height / 2,
      width: n.width,
      height: n.height,
      loop: Boolean(s?.loop),
      fanIn: Boolean(s?.fan_in),
      entry: name === graph.entry,
    };
  });
  const rank = new Map(nodes.map((n) => [n.name, n.y]));
  const edges: LaidEdge[] = g.edges().map((e: { v: string; w: string; name?: string }) => {
    const label = g.edge(e) as { points?: { x: number; y: number }[]; x?: number; y?: number };
    const arc = graph.arcs[Number(e.name)];
    return {
      from: e.v,
      to: e.w,
      when: arc?.when ? shortWhen(arc.when) : null,
      points: label.points ?? [],
      labelX: arc?.when ? (label.x ?? null) : null,
      labelY: arc?.when ? (label.y ?? null) : null,
      back: (rank.get(e.w) ?? 0) <= (rank.get(e.v) ?? 0) && e.v !== e.w ? true : e.v === e.w,
    };
  });
  const gl = g.graph() as { width?: number; height?: number };
  return { nodes, edges, width: gl.width ?? 0, height: gl.height ?? 0 };
}
