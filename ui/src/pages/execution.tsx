import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiError, errorText, get, post } from '../api/client.js';
import { fetchGraph } from '../api/graph.js';
import type {
  EventsPage,
  ExecuteAnswer,
  ExecutionDetail,
  ExecutionHead,
  ExecutionPageSummary,
  JsonObject,
  PlaybookGraph,
  WireEvent,
} from '../api/types.js';
import { Gantt } from '../components/gantt.js';
import { LazyGraph, preloadGraph } from '../components/lazy-graph.js';
import { ErrorBox, Status } from '../components/status.js';
import { StepPanel } from '../components/step-panel.js';
import { applyEvent, emptyState, stateFromSummary, type ExecutionState } from '../lib/fold.js';
import { between, fmtDuration, fmtTime } from '../lib/format.js';
import { useInterval, useLoad, useNow } from '../lib/hooks.js';
import { LiveBadge, useEventStream } from '../lib/live.js';
import { navigate } from '../lib/router.js';

// The events route serves up to 10,000 a page: a 500-step run (~3,500 events) is one request.
const PAGE = 5000;

/** Every event of an execution after `after`, page by page, each page handed on as it comes. */
async function readEvents(
  id: string,
  after: string | null,
  onPage: (events: WireEvent[]) => void,
  signal?: AbortSignal,
): Promise<void> {
  let cursor = after;
  for (;;) {
    const q = new URLSearchParams({ limit: String(PAGE) });
    if (cursor) q.set('after', cursor);
    const page = await get<EventsPage>(`/api/executions/${id}/events?${q.toString()}`, signal);
    onPage(page.events);
    const last = page.events[page.events.length - 1];
    if (page.events.length < PAGE || !last) return;
    cursor = last.event_id;
  }
}

/** The graph of a playbook version, or the steps seen in the log when the server cannot say. */
function fallbackGraph(state: ExecutionState): PlaybookGraph {
  return {
    entry: 'start',
    steps: state.order.map((name) => ({ name, kind: state.steps.get(name)?.toolKind ?? '' })),
    arcs: [],
  };
}

/**
 * The execution and its steps as the server folded them (one request: a deep link draws from
 * it), or, from a server without the summary route, the execution alone.
 */
async function loadSummary(
  id: string,
  signal: AbortSignal,
): Promise<ExecutionHead & Partial<ExecutionPageSummary>> {
  try {
    return await get<ExecutionPageSummary>(`/api/executions/${id}/summary`, signal);
  } catch (err) {
    if (err instanceof ApiError && err.missingRoute)
      return get<ExecutionDetail>(`/api/executions/${id}`, signal);
    throw err;
  }
}

export function ExecutionPage({ id, params }: { id: string; params: URLSearchParams }) {
  const detail = useLoad((signal) => loadSummary(id, signal), [id]);
  // The graph code loads while the summary does.
  useEffect(preloadGraph, []);
  // Drawn from the summary until the event log is read and folded (then the fold takes over).
  // (A rerun navigates here with the previous execution's answer still held: not used.)
  const current = detail.data?.execution_id === id ? detail.data : null;
  const seeded = useMemo(
    () => (current?.steps ? stateFromSummary(current as ExecutionPageSummary) : null),
    [current],
  );
  const stateRef = useRef<{ state: ExecutionState; seen: Set<string> }>({
    state: emptyState(),
    seen: new Set(),
  });
  const [version, setVersion] = useState(0);
  const [loaded, setLoaded] = useState(false);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [graph, setGraph] = useState<PlaybookGraph | null | 'missing'>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [rerunOpen, setRerunOpen] = useState(false);
  const selected = params.get('step');
  const frame = useRef<number | null>(null);

  // Events arrive in bursts (a 500-step run): fold each at once, redraw once per frame.
  const bump = useCallback(() => {
    if (frame.current !== null) return;
    frame.current = requestAnimationFrame(() => {
      frame.current = null;
      setVersion((v) => v + 1);
    });
  }, []);
  const apply = useCallback(
    (events: WireEvent[]) => {
      const { state, seen } = stateRef.current;
      for (const ev of events) if (!ev.execution_id || ev.execution_id === id) applyEvent(state, ev, seen);
      bump();
    },
    [id, bump],
  );

  // The log is read once the summary is in (or failed), so the summary is not queued behind it.
  // With a summary to draw from, the log (~3,500 events for 500 steps: parsing and folding them
  // holds the page's thread) is read once the graph is drawn, or after 3 s whatever happens.
  const [graphDrawn, setGraphDrawn] = useState(false);
  const [waited, setWaited] = useState(false);
  useEffect(() => {
    setGraphDrawn(false);
    setWaited(false);
    const timer = setTimeout(() => setWaited(true), 3000);
    return () => clearTimeout(timer);
  }, [id]);
  const summaryDone = (current !== null && (!current.steps || graphDrawn || waited)) || detail.error !== null;
  useEffect(() => {
    stateRef.current = { state: emptyState(), seen: new Set() };
    setLoaded(false);
    setLoadError(null);
    setGraph(null);
  }, [id]);
  useEffect(() => {
    if (!summaryDone) return;
    const abort = new AbortController();
    readEvents(id, null, apply, abort.signal).then(
      () => setLoaded(true),
      (err: unknown) => {
        if (!abort.signal.aborted) setLoadError(err);
      },
    );
    return () => abort.abort();
  }, [id, apply, summaryDone]);

  const state = loaded || !seeded ? stateRef.current.state : seeded;
  const running = state.status === 'RUNNING';
  // The stream ends after the terminal event: it is opened only while the execution runs.
  const live = useEventStream(
    loaded && running ? `/api/executions/${id}/stream` : null,
    (ev) => apply([ev]),
    () => state.lastEventId,
  );
  // Older servers without the stream: read new events every second while it runs.
  useInterval(
    () => {
      readEvents(id, stateRef.current.state.lastEventId, apply).catch(() => undefined);
    },
    live === 'polling' && running ? 1000 : null,
  );
  // Reload the summary when the run ends (completed_at, error).
  const wasRunning = useRef(true);
  useEffect(() => {
    if (loaded && wasRunning.current && !running) detail.reload();
    wasRunning.current = running;
  }, [running, loaded]);

  // The playbook's graph, once per execution (path and version from its first event).
  const path = detail.data?.path ?? null;
  const playbookVersion = state.version;
  const summaryGraph = current?.graph;
  useEffect(() => {
    if (summaryGraph && graph === null) setGraph(summaryGraph);
  }, [summaryGraph]);
  useEffect(() => {
    if (summaryGraph) return;
    // Fetched as soon as the first page of events names the version, while later pages load.
    if (!path || graph !== null || !playbookVersion) return;
    fetchGraph({ path, version: Number(playbookVersion) }).then(
      (answer) => setGraph(answer?.graph ?? 'missing'),
      () => setGraph('missing'),
    );
  }, [path, playbookVersion, summaryGraph]);

  const drawn: PlaybookGraph | null = useMemo(() => {
    if (graph && graph !== 'missing') {
      // Steps the log knows but the graph does not (should not happen) are added unconnected.
      const names = new Set(graph.steps.map((s) => s.name));
      const extra = state.order.filter((n) => !names.has(n));
      return extra.length
        ? { ...graph, steps: [...graph.steps, ...extra.map((name) => ({ name, kind: '' }))] }
        : graph;
    }
    if (graph === 'missing' && loaded) return fallbackGraph(state);
    return null;
    // Steps appear over time only in the fallback; the real graph is fixed.
  }, [graph, loaded, graph === 'missing' ? state.order.length : 0]);

  const now = useNow(running ? 500 : null);
  const select = (name: string) => {
    const p = new URLSearchParams(params);
    p.set('step', name);
    navigate(`/executions/${id}?${p.toString()}`, true);
  };

  const act = async (fn: () => Promise<void>) => {
    setBusy(true);
    setActionError(null);
    try {
      await fn();
    } catch (err) {
      setActionError(err);
    } finally {
      setBusy(false);
    }
  };
  const cancel = () =>
    act(async () => {
      await post(`/api/executions/${id}/cancel`, { reason: 'cancelled from the web UI' });
      detail.reload();
    });
  const rerun = (workload?: JsonObject) =>
    act(async () => {
      const r = await post<ExecuteAnswer>(`/api/executions/${id}/rerun`, workload ? { workload } : {});
      navigate(`/executions/${r.execution_id}`);
    });

  if (detail.error instanceof ApiError && detail.error.status === 404)
    return (
      <section>
        <h1>Execution {id}</h1>
        <p>No such execution.</p>
      </section>
    );
  const d = detail.data;
  const status = loaded ? state.status : (d?.status ?? 'RUNNING');
  const stepState = selected ? (state.steps.get(selected) ?? null) : null;
  const steps = [...state.steps.values()];
  const counts = {
    completed: steps.filter((s) => s.status === 'completed').length,
    failed: steps.filter((s) => s.status === 'failed').length,
    running: steps.filter((s) => s.status === 'running').length,
  };
  const children = [...new Set(steps.flatMap((s) => s.children))].filter((c) => c !== id);

  return (
    <section class="execution" data-version={version}>
      <div class="title-row">
        <h1>
          <span class="muted">Execution</span> <span class="mono">{id}</span>
        </h1>
        <Status status={status} />
        <LiveBadge state={running ? live : 'off'} />
      </div>
      <dl class="facts">
        <dt>playbook</dt>
        <dd>{d?.path ? <a href={`/catalog/${d.path}`}>{d.path}</a> : '—'}</dd>
        <dt>started</dt>
        <dd>{fmtTime(d?.started_at ?? state.startedAt)}</dd>
        <dt>duration</dt>
        <dd>
          {fmtDuration(between(d?.started_at ?? state.startedAt, state.endedAt ?? d?.completed_at, now))}
        </dd>
        <dt>steps</dt>
        <dd>
          {counts.completed} completed, {counts.running} running, {counts.failed} failed
        </dd>
        {d?.parent_execution_id ? (
          <>
            <dt>parent</dt>
            <dd>
              <a href={`/executions/${d.parent_execution_id}`} class="mono">
                {d.parent_execution_id}
              </a>
            </dd>
          </>
        ) : null}
        {children.length ? (
          <>
            <dt>sub-playbooks</dt>
            <dd>
              {children.map((c) => (
                <a href={`/executions/${c}`} class="mono child-link">
                  {c}
                </a>
              ))}
            </dd>
          </>
        ) : null}
      </dl>
      {(state.error ?? d?.error) ? <div class="error-box">{state.error ?? d?.error}</div> : null}
      <div class="actions">
        <button type="button" class="danger" onClick={() => void cancel()} disabled={!running || busy}>
          Cancel
        </button>
        <button
          type="button"
          onClick={() => void rerun()}
          disabled={running || busy}
          title={
            status === 'COMPLETED'
              ? 'A new execution of the same playbook version and workload, from the start'
              : 'A new execution: completed steps keep their results, failed and unfinished steps run again'
          }
        >
          {status === 'COMPLETED'
            ? 'Run again'
            : status === 'CANCELLED'
              ? 'Resume'
              : 'Rerun from failed step'}
        </button>
        <button
          type="button"
          onClick={() => setRerunOpen((o) => !o)}
          disabled={running || busy}
          aria-expanded={rerunOpen}
        >
          Rerun with new workload…
        </button>
      </div>
      {rerunOpen ? <RerunForm workload={d?.workload ?? {}} onRun={(w) => void rerun(w)} busy={busy} /> : null}
      <ErrorBox error={actionError} title="The server refused" />
      <ErrorBox error={loadError ?? detail.error} title="Could not load the execution" />
      <div class="detail-grid">
        <section class="panel graph-panel" aria-label="Graph">
          <h2>Graph</h2>
          {graph === 'missing' ? (
            <p class="note">
              This server cannot describe the playbook's arcs; the steps seen so far are shown.
            </p>
          ) : null}
          {drawn ? (
            <LazyGraph
              graph={drawn}
              version={version}
              selected={selected}
              onSelect={select}
              label={`Steps of execution ${id}`}
              onDrawn={() => setGraphDrawn(true)}
              info={(name) => {
                const s = state.steps.get(name);
                if (!s) return { status: running ? 'pending' : 'unreached' };
                return {
                  status: s.status,
                  progress:
                    s.iterationsExpected !== null ? `${s.iterationsDone}/${s.iterationsExpected}` : null,
                  retries: Math.max(0, s.attempts - 1),
                };
              }}
            />
          ) : (
            <p class="muted">Loading…</p>
          )}
        </section>
        <section class="panel step-side" aria-label="Step">
          {stepState ? (
            <StepPanel step={stepState} loading={!loaded && loadError === null} />
          ) : (
            <p class="muted">
              Select a step in the graph or the timeline to see its input, result, output and events.
            </p>
          )}
        </section>
      </div>
      <section class="panel">
        <h2>Timeline</h2>
        <Gantt state={state} now={now} selected={selected} onSelect={select} />
      </section>
    </section>
  );
}

function RerunForm({
  workload,
  onRun,
  busy,
}: {
  workload: JsonObject;
  onRun: (w: JsonObject) => void;
  busy: boolean;
}) {
  const [text, setText] = useState(() => JSON.stringify(workload, null, 2));
  const [error, setError] = useState<string | null>(null);
  return (
    <form
      class="panel rerun-form"
      onSubmit={(e) => {
        e.preventDefault();
        try {
          const v: unknown = JSON.parse(text);
          if (!v || typeof v !== 'object' || Array.isArray(v))
            throw new Error('the workload must be a JSON object');
          setError(null);
          onRun(v as JsonObject);
        } catch (err) {
          setError(errorText(err));
        }
      }}
    >
      <label>
        Workload (JSON; top-level keys override the playbook's)
        <textarea rows={8} value={text} onInput={(e) => setText(e.currentTarget.value)} spellcheck={false} />
      </label>
      {error ? <div class="error-box">{error}</div> : null}
      <button type="submit" class="primary" disabled={busy}>
        Rerun with this workload
      </button>
    </form>
  );
}
