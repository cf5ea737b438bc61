import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { PlaybookGraph } from '../api/types.js';
import { layoutGraph, type LaidEdge, type Layout } from './layout.js';

/** What the graph shows on a node besides its name: a status and progress (execution detail). */
export interface NodeInfo {
  status: string;
  progress?: string | null;
  retries?: number;
}

export interface GraphViewProps {
  graph: PlaybookGraph;
  info?: (name: string) => NodeInfo | null;
  selected?: string | null;
  onSelect?: (name: string) => void;
  /** Changes when any node's info changes, so the memoised layout is kept but nodes redraw. */
  version?: number;
  label?: string;
  /** Called once a layout is drawn (the frame after it is committed). */
  onDrawn?: () => void;
}

const SYMBOL: Record<string, string> = {
  running: '●',
  pending: '○',
  completed: '✓',
  failed: '✕',
  skipped: '↷',
  cancelled: '■',
};

function edgePath(e: LaidEdge): string {
  const [first, ...rest] = e.points;
  if (!first) return '';
  if (rest.length === 0) return `M${first.x},${first.y}`;
  // Smooth through the points dagre routed (quadratic segments between midpoints).
  let d = `M${first.x},${first.y}`;
  for (let i = 0; i < rest.length - 1; i++) {
    const p = rest[i] as { x: number; y: number };
    const q = rest[i + 1] as { x: number; y: number };
    d += ` Q${p.x},${p.y} ${(p.x + q.x) / 2},${(p.y + q.y) / 2}`;
  }
  const last = rest[rest.length - 1] as { x: number; y: number };
  return `${d} L${last.x},${last.y}`;
}

function trim(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** The playbook graph, laid out by dagre and drawn as SVG; nodes are keyboard-focusable buttons. */
export function GraphView({ graph, info, selected, onSelect, label, onDrawn }: GraphViewProps) {
  // Timing of layout and of layout + first draw, exposed on the SVG (data-layout-ms,
  // data-drawn-ms) for bench/ui.mjs.
  const timing = useRef({ start: 0, layout: 0 });
  const svg = useRef<SVGSVGElement>(null);
  const layout: Layout = useMemo(() => {
    const start = performance.now();
    const l = layoutGraph(graph);
    timing.current = { start, layout: performance.now() - start };
    return l;
  }, [graph]);
  useEffect(() => {
    const el = svg.current;
    if (!el) return;
    el.setAttribute('data-layout-ms', String(Math.round(timing.current.layout)));
    requestAnimationFrame(() => {
      el.setAttribute('data-drawn-ms', String(Math.round(performance.now() - timing.current.start)));
      onDrawn?.();
    });
  }, [layout]);
  const [scale, setScale] = useState(() => (graph.steps.length > 60 ? 0.6 : 1));
  const w = Math.max(layout.width, 100);
  const h = Math.max(layout.height, 60);
  return (
    <div class="graph">
      <div class="graph-tools" role="toolbar" aria-label="Graph zoom">
        <button type="button" onClick={() => setScale((s) => Math.max(0.2, s / 1.25))} aria-label="Zoom out">
          −
        </button>
        <span class="muted">{Math.round(scale * 100)}%</span>
        <button type="button" onClick={() => setScale((s) => Math.min(2.5, s * 1.25))} aria-label="Zoom in">
          +
        </button>
        <button type="button" onClick={() => setScale(1)}>
          Reset
        </button>
        <span class="muted">
          {graph.steps.length} step{graph.steps.length === 1 ? '' : 's'}, {graph.arcs.length} arc
          {graph.arcs.length === 1 ? '' : 's'}
        </span>
      </div>
      <div class="graph-scroll">
        <svg
          ref={svg}
          class="graph-svg"
          width={w * scale}
          height={h * scale}
          viewBox={`0 0 ${w} ${h}`}
          role="group"
          aria-label={label ?? 'Playbook graph'}
          data-steps={graph.steps.length}
        >
          <defs>
            <marker
              id="arrow"
              viewBox="0 0 10 10"
              refX="9"
              refY="5"
              markerWidth="7"
              markerHeight="7"
              orient="auto-start-reverse"
            >
              <path d="M0,0 L10,5 L0,10 z" class="arrowhead" />
            </marker>
          </defs>
          <g class="edges">
            {layout.edges.map((e) => (
              <g class={`edge${e.back ? ' back' : ''}`}>
                <path d={edgePath(e)} marker-end="url(#arrow)">
                  <title>{`${e.from} → ${e.to}${e.when ? ` when ${e.when}` : ''}`}</title>
                </path>
                {e.when && e.labelX !== null && e.labelY !== null ? (
                  <text class="edge-label" x={e.labelX} y={e.labelY + 4} text-anchor="middle">
                    {e.when}
                  </text>
                ) : null}
              </g>
            ))}
          </g>
          <g class="nodes">
            {layout.nodes.map((n) => {
              const i = info?.(n.name) ?? null;
              const status = i?.status ?? 'none';
              const sub = [n.kind, n.loop ? 'loop' : '', n.fanIn ? 'fan-in' : ''].filter(Boolean).join(' · ');
              const state = i
                ? `${SYMBOL[status] ?? ''} ${status}${i.progress ? ` ${i.progress}` : ''}${i.retries ? ` · retries ${i.retries}` : ''}`
                : sub;
              return (
                <g
                  class={`node status-${status}${selected === n.name ? ' selected' : ''}${n.entry ? ' entry' : ''}`}
                  transform={`translate(${n.x},${n.y})`}
                  tabindex={onSelect ? 0 : -1}
                  role={onSelect ? 'button' : 'img'}
                  aria-label={`${n.name}: ${i ? state.trim() : sub || 'step'}`}
                  aria-pressed={onSelect ? selected === n.name : undefined}
                  data-step={n.name}
                  data-status={status}
                  onClick={() => onSelect?.(n.name)}
                  onKeyDown={(e) => {
                    if (e.key === 'Enter' || e.key === ' ') {
                      e.preventDefault();
                      onSelect?.(n.name);
                    }
                  }}
                >
                  <rect width={n.width} height={n.height} rx="8" />
                  {n.loop ? (
                    <rect class="loop-mark" x={n.width - 6} width="6" height={n.height} rx="3" />
                  ) : null}
                  <text class="node-name" x="10" y="22">
                    {trim(n.name, 24)}
                  </text>
                  <text class="node-sub" x="10" y="44">
                    {trim(i ? state.trim() : sub, 30)}
                  </text>
                  <title>{`${n.name}${sub ? ` (${sub})` : ''}${i ? `: ${state.trim()}` : ''}`}</title>
                </g>
              );
            })}
          </g>
        </svg>
      </div>
    </div>
  );
}
