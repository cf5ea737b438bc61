import { get } from '../api/client.js';
import type { DashboardStats, Json, WorkerPool } from '../api/types.js';
import { ErrorBox, Status } from '../components/status.js';
import { ago, fmtTime } from '../lib/format.js';
import { useInterval, useLoad, useNow } from '../lib/hooks.js';

function labels(v: Json): string {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return '';
  return Object.entries(v)
    .map(([k, x]) => `${k}=${typeof x === 'string' ? x : JSON.stringify(x)}`)
    .join(', ');
}

export function WorkersPage() {
  const pools = useLoad((signal) => get<WorkerPool[]>('/api/worker/pools', signal), []);
  // Slots in use and current commands per pool, where the server reports them (dashboard stats).
  const stats = useLoad((signal) => get<DashboardStats>('/api/dashboard/stats', signal), []);
  useInterval(() => {
    pools.reload();
    stats.reload();
  }, 5000);
  const now = useNow(5000);
  const usage = new Map((stats.data?.worker_pools?.items ?? []).map((p) => [p.name, p]));
  return (
    <section>
      <h1>Workers</h1>
      <p class="muted">
        Worker pools register and send heartbeats; one silent for a minute is marked offline. Commands
        waiting: {stats.data?.commands?.pending ?? '—'}, running: {stats.data?.commands?.running ?? '—'}.
      </p>
      <ErrorBox error={pools.error} title="Could not list worker pools" />
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th>pool</th>
              <th>status</th>
              <th>slots</th>
              <th>in use</th>
              <th>last heartbeat</th>
              <th>host / labels</th>
            </tr>
          </thead>
          <tbody>
            {(pools.data ?? []).map((p) => {
              const u = usage.get(p.name);
              const status = u?.offline ? 'offline' : p.status;
              const inUse = u ? u.active : null;
              return (
                <tr class={status === 'offline' ? 'offline' : ''} data-pool={p.name}>
                  <td>{p.name}</td>
                  <td>
                    <Status status={status} />
                  </td>
                  <td>{p.capacity ?? '—'}</td>
                  <td>{inUse === null ? '—' : inUse}</td>
                  <td title={fmtTime(p.heartbeat)}>{ago(p.heartbeat, now)}</td>
                  <td class="muted">{[p.uri ?? '', labels(p.labels)].filter(Boolean).join(' · ')}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {pools.data && pools.data.length === 0 ? <p class="muted">No worker pool has registered.</p> : null}
    </section>
  );
}
