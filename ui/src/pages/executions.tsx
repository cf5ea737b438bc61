import { useRef, useState } from 'preact/hooks';
import { listExecutions, type ExecutionFilter } from '../api/executions.js';
import type { ExecutionSummary, WireEvent } from '../api/types.js';
import { ErrorBox, Status } from '../components/status.js';
import { between, fmtDuration, fmtTime } from '../lib/format.js';
import { useInterval, useLoad, useNow } from '../lib/hooks.js';
import { LiveBadge, useEventStream } from '../lib/live.js';
import { navigate } from '../lib/router.js';

const STATUSES = ['', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED'];
const TERMINAL_TYPES =
  'playbook_started,playbook.completed,playbook.failed,playbook_cancelled,playbook.cancelled,execution.cancelled';

/** `datetime-local` value (local time) to an ISO instant, or undefined. */
function toIso(local: string | null): string | undefined {
  if (!local) return undefined;
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

export function ExecutionsPage({ params }: { params: URLSearchParams }) {
  const filter: ExecutionFilter = {
    status: params.get('status') ?? '',
    path: params.get('path') ?? '',
    q: params.get('q') ?? '',
    ...(toIso(params.get('since')) ? { since: toIso(params.get('since')) as string } : {}),
    ...(toIso(params.get('until')) ? { until: toIso(params.get('until')) as string } : {}),
    limit: 50,
    cursor: params.get('cursor'),
  };
  const key = params.toString();
  const list = useLoad((signal) => listExecutions(filter, signal), [key]);
  const [rows, setRows] = useState<Map<string, ExecutionSummary>>(new Map());
  const pending = useRef<number | null>(null);
  const firstPage = !filter.cursor;

  // Live: on the first page a new or finished execution reloads the page (coalesced); on later
  // pages a terminal event updates its row in place.
  const live = useEventStream(
    `/api/events/stream?types=${encodeURIComponent(TERMINAL_TYPES)}`,
    (ev: WireEvent) => {
      if (firstPage) {
        if (pending.current === null)
          pending.current = window.setTimeout(() => {
            pending.current = null;
            list.reload();
          }, 150);
        return;
      }
      const id = ev.execution_id;
      const row = list.data?.items.find((r) => r.execution_id === id);
      if (!row || !id) return;
      const status = /completed/.test(ev.event_type)
        ? 'COMPLETED'
        : /failed/.test(ev.event_type)
          ? 'FAILED'
          : /cancel/.test(ev.event_type)
            ? 'CANCELLED'
            : row.status;
      setRows((m) =>
        new Map(m).set(id, { ...row, status, completed_at: ev.created_at, error: ev.error ?? row.error }),
      );
    },
  );
  useInterval(list.reload, live === 'polling' ? 2000 : null);
  const items = (list.data?.items ?? []).map((r) => rows.get(r.execution_id) ?? r);
  const anyRunning = items.some((r) => r.status === 'RUNNING');
  const now = useNow(anyRunning ? 1000 : null);

  const setParam = (name: string, value: string) => {
    const p = new URLSearchParams(params);
    if (value) p.set(name, value);
    else p.delete(name);
    p.delete('cursor');
    p.delete('prev');
    navigate(`/executions${p.toString() ? `?${p.toString()}` : ''}`, true);
  };
  const nextPage = () => {
    if (!list.data?.nextCursor) return;
    const p = new URLSearchParams(params);
    const prev = p.getAll('prev');
    p.delete('prev');
    for (const c of [...prev, filter.cursor ?? '']) p.append('prev', c);
    p.set('cursor', list.data.nextCursor);
    navigate(`/executions?${p.toString()}`);
  };
  const prevPage = () => {
    const p = new URLSearchParams(params);
    const prev = p.getAll('prev');
    const back = prev.pop() ?? '';
    p.delete('prev');
    for (const c of prev) p.append('prev', c);
    if (back) p.set('cursor', back);
    else p.delete('cursor');
    navigate(`/executions${p.toString() ? `?${p.toString()}` : ''}`);
  };

  return (
    <section>
      <div class="title-row">
        <h1>Executions</h1>
        <LiveBadge state={live} />
      </div>
      <form class="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <label>
          Status
          <select value={filter.status} onChange={(e) => setParam('status', e.currentTarget.value)}>
            {STATUSES.map((s) => (
              <option value={s}>{s === '' ? 'any' : s.toLowerCase()}</option>
            ))}
          </select>
        </label>
        <label>
          Playbook
          <input
            type="search"
            placeholder="part of the path"
            defaultValue={filter.q}
            onChange={(e) => setParam('q', e.currentTarget.value.trim())}
          />
        </label>
        {filter.path ? (
          <span class="chip">
            under <code>{filter.path}</code>{' '}
            <button type="button" aria-label="Clear the path filter" onClick={() => setParam('path', '')}>
              ✕
            </button>
          </span>
        ) : null}
        <label>
          Since
          <input
            type="datetime-local"
            defaultValue={params.get('since') ?? ''}
            onChange={(e) => setParam('since', e.currentTarget.value)}
          />
        </label>
        <label>
          Until
          <input
            type="datetime-local"
            defaultValue={params.get('until') ?? ''}
            onChange={(e) => setParam('until', e.currentTarget.value)}
          />
        </label>
      </form>
      <ErrorBox error={list.error} title="Could not list executions" />
      <div class="table-wrap">
        <table class="executions" aria-busy={list.loading}>
          <thead>
            <tr>
              <th>status</th>
              <th>playbook</th>
              <th>execution</th>
              <th>started</th>
              <th>duration</th>
              <th>error</th>
            </tr>
          </thead>
          <tbody>
            {items.map((r) => (
              <tr data-execution-id={r.execution_id} data-status={r.status}>
                <td>
                  <Status status={r.status} />
                </td>
                <td>{r.path ? <a href={`/catalog/${r.path}`}>{r.path}</a> : '—'}</td>
                <td>
                  <a href={`/executions/${r.execution_id}`} class="mono">
                    {r.execution_id}
                  </a>
                  {r.parent_execution_id ? (
                    <span class="muted">
                      {' '}
                      ← <a href={`/executions/${r.parent_execution_id}`}>parent</a>
                    </span>
                  ) : null}
                </td>
                <td>{fmtTime(r.started_at)}</td>
                <td>{fmtDuration(between(r.started_at, r.completed_at, now))}</td>
                <td class="error-line" title={r.error ?? ''}>
                  {r.error ?? ''}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {list.data && items.length === 0 ? <p class="muted">No execution matches.</p> : null}
      <nav class="pager" aria-label="Pages">
        <button type="button" onClick={prevPage} disabled={firstPage}>
          ← Newer
        </button>
        <button type="button" onClick={nextPage} disabled={!list.data?.nextCursor}>
          Older →
        </button>
      </nav>
    </section>
  );
}
