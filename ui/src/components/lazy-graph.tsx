import { useEffect, useState } from 'preact/hooks';
import type { GraphViewProps } from '../graph/graph-view.js';

import type * as GraphViewModule from '../graph/graph-view.js';

type GraphModule = typeof GraphViewModule;
let loaded: Promise<GraphModule> | null = null;

/** Starts loading the graph code early (a page that will draw a graph, before its data is in). */
export function preloadGraph(): void {
  loaded ??= import('../graph/graph-view.js');
  loaded.catch(() => undefined);
}

/** Loads the graph code (dagre and the SVG view, a separate chunk) only where a graph is drawn. */
export function LazyGraph(props: GraphViewProps) {
  const [mod, setMod] = useState<GraphModule | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    loaded ??= import('../graph/graph-view.js');
    loaded.then(setMod, setError);
  }, []);
  if (error) return <p class="error-box">Could not load the graph view.</p>;
  if (!mod) return <p class="muted graph-loading">Drawing the graph…</p>;
  return <mod.GraphView {...props} />;
}
