import { get } from '../api/client.js';
import { listExecutions } from '../api/executions.js';
import type { DashboardStats, LatestFailure, PoolUsage, WorkerPool } from '../api/types.js';
import { ErrorBox, Status } from '../components/status.js';
import { ago, fmtTime } from '../lib/format.js';
import { useInterval, useLoad } from '../lib/hooks.js';

interface DashboardData {
  stats: DashboardStats;
  failures: LatestFailure[];
  pools: PoolUsage[];
}

async function loadDashboard(signal: AbortSignal): Promise<DashboardData> {
  const stats = await get<DashboardStats>('/api/dashboard/stats', signal);
  // Older servers lack latest_failures / pools in the stats: read them from their own routes.
  const failures =
    stats.latest_failures ??
    (await listExecutions({ status: 'FAILED', limit: 10 }, signal)).items.map((e) => ({
      execution_id: e.execution_id,
      path: e.path,
      step: null,
      error: e.error,
      at: e.completed_at ?? e.started_at,
    }));
  const pools =
    stats.worker_pools?.items ??
    (await get<WorkerPool[]>('/api/worker/pools', signal)).map((p) => ({
      name: p.name,
      status: p.status,
      slots: p.capacity,
      active: NaN,
      last_heartbeat: p.heartbeat,
      offline: p.status === 'offline',
    }));
  return { stats, failures, pools };
}

function Card({
  label,
  value,
  href,
  tone,
}: {
  label: string;
  value: number | string;
  href?: string;
  tone?: string;
}) {
  const body = (
    <>
      <span class="card-value">{value}</span>
      <span class="card-label">{label}</span>
    </>
  );
  return href ? (
    <a class={`card ${tone ?? ''}`} href={href}>
      {body}
    </a>
  ) : (
    <div class={`card ${tone ?? ''}`}>{body}</div>
  );
}

function Throughput({ points }: { points: { t: string; count: number }[] }) {
  if (points.length === 0) return <p class="muted">No executions in the window.</p>;
  const max = Math.max(1, ...points.map((p) => p.count));
  const w = 600;
  const h = 120;
  const bw = w / points.length;
  const total = points.reduce((a, p) => a + p.count, 0);
  return (
    <figure class="throughput">
      <svg
        viewBox={`0 0 ${w} ${h + 16}`}
        role="img"
        aria-label={`Commands completed per minute: ${total} in the last hour, at most ${max} in a minute`}
      >
        {points.map((p, i) => {
          const bh = (p.count / max) * h;
          return (
            <rect class="bar" x={i * bw + 1} y={h - bh} width={Math.max(1, bw - 2)} height={bh}>
              <title>{`${fmtTime(p.t)}: ${p.count}`}</title>
            </rect>
          );
        })}
        <line class="axis" x1="0" x2={w} y1={h} y2={h} />
        <text class="axis-label" x="0" y={h + 13}>
          {fmtTime(points[0]?.t).slice(11, 16)}
        </text>
        <text class="axis-label" x={w} y={h + 13} text-anchor="end">
          {fmtTime(points[points.length - 1]?.t).slice(11, 16)}
        </text>
      </svg>
      <figcaption>
        Commands completed per minute over the last hour: {total} in all, peak {max}.
      </figcaption>
    </figure>
  );
}

export function DashboardPage() {
  const d = useLoad(loadDashboard, []);
  useInterval(d.reload, 5000);
  const s = d.data?.stats;
  const ex = s?.executions;
  return (
    <section>
      <h1>Dashboard</h1>
      <ErrorBox error={d.error} title="Could not load the statistics" />
      {s ? (
        <>
          <div class="cards">
            <Card
              label="running"
              value={s.running ?? ex?.running ?? 0}
              href="/executions?status=RUNNING"
              tone="tone-running"
            />
            <Card
              label={s.failed_24h !== undefined ? 'failed (24 h)' : 'failed'}
              value={s.failed_24h ?? ex?.failed ?? 0}
              href="/executions?status=FAILED"
              tone="tone-failed"
            />
            <Card
              label={s.completed_24h !== undefined ? 'completed (24 h)' : 'completed'}
              value={s.completed_24h ?? ex?.completed ?? 0}
              href="/executions?status=COMPLETED"
              tone="tone-completed"
            />
            <Card label="executions (24 h)" value={ex?.last_24h ?? 0} href="/executions" />
            <Card label="playbooks" value={s.catalog?.paths ?? 0} href="/catalog" />
            <Card
              label="worker pools active"
              value={`${s.worker_pools?.active ?? 0}/${s.worker_pools?.total ?? 0}`}
              href="/workers"
            />
          </div>
          <div class="grid-2">
            <section class="panel">
              <h2>Throughput</h2>
              {s.throughput ? (
                <Throughput points={s.throughput} />
              ) : (
                <p class="muted">This server reports no throughput series.</p>
              )}
            </section>
            <section class="panel">
              <h2>Worker pools</h2>
              {d.data && d.data.pools.length > 0 ? (
                <table class="compact">
                  <thead>
                    <tr>
                      <th>pool</th>
                      <th>status</th>
                      <th>busy / slots</th>
                      <th>heartbeat</th>
                    </tr>
                  </thead>
                  <tbody>
                    {d.data.pools.map((p) => (
                      <tr class={p.offline ? 'offline' : ''}>
                        <td>{p.name}</td>
                        <td>
                          <Status status={p.offline ? 'offline' : p.status} />
                        </td>
                        <td>
                          {Number.isNaN(p.active) ? '—' : p.active} / {p.slots ?? '—'}
                        </td>
                        <td title={fmtTime(p.last_heartbeat)}>{ago(p.last_heartbeat)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              ) : (
                <p class="muted">No worker pool has registered.</p>
              )}
            </section>
          </div>
          <section class="panel">
            <h2>Latest failures</h2>
            {d.data && d.data.failures.length > 0 ? (
              <ul class="failures">
                {d.data.failures.map((f) => (
                  <li>
                    <a href={`/executions/${f.execution_id}`}>{f.path ?? f.execution_id}</a>
                    {f.step ? (
                      <>
                        {' '}
                        step{' '}
                        <a href={`/executions/${f.execution_id}?step=${encodeURIComponent(f.step)}`}>
                          {f.step}
                        </a>
                      </>
                    ) : null}{' '}
                    <span class="muted">{fmtTime(f.at)}</span>
                    <div class="error-line">{f.error ?? 'failed'}</div>
                  </li>
                ))}
              </ul>
            ) : (
              <p class="muted">No failed execution.</p>
            )}
          </section>
        </>
      ) : d.loading ? (
        <p class="muted">Loading…</p>
      ) : null}
    </section>
  );
}
