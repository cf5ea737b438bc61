import { SNOWFLAKE_EPOCH_MS } from '../../shared/index.js';
import type { wire } from '../../shared/index.js';
import type { Store } from '../../store/index.js';

/**
 * Counters of `/api/dashboard/stats` in one read-only statement. The schema name comes from the
 * store (validated there as an identifier); nothing from the request enters the SQL.
 * TODO(store): a `store.counts()` port method would keep this SQL in store/queries (STYLE.md 17).
 */
function countsSql(schema: string): string {
  const t = (table: string): string => `"${schema}".${table}`;
  return `SELECT
  (SELECT count(*) FROM ${t('catalog')} WHERE NOT archived) AS catalog_entries,
  (SELECT count(DISTINCT path) FROM ${t('catalog')} WHERE NOT archived) AS catalog_paths,
  (SELECT count(*) FROM ${t('credential')}) AS credentials,
  (SELECT count(*) FROM ${t('execution')}) AS executions_total,
  (SELECT count(*) FROM ${t('execution')} WHERE status = 'RUNNING') AS executions_running,
  (SELECT count(*) FROM ${t('execution')} WHERE status = 'COMPLETED') AS executions_completed,
  (SELECT count(*) FROM ${t('execution')} WHERE status = 'FAILED') AS executions_failed,
  (SELECT count(*) FROM ${t('execution')} WHERE status = 'CANCELLED') AS executions_cancelled,
  (SELECT count(*) FROM ${t('execution')} WHERE start_time > now() - interval '24 hours') AS executions_last_24h,
  (SELECT count(*) FROM ${t('execution')} WHERE status = 'FAILED' AND end_time > now() - interval '24 hours') AS failed_24h,
  (SELECT count(*) FROM ${t('execution')} WHERE status = 'COMPLETED' AND end_time > now() - interval '24 hours') AS completed_24h,
  (SELECT count(*) FROM ${t('command')} WHERE status = 'PENDING') AS commands_pending,
  (SELECT count(*) FROM ${t('command')} WHERE status IN ('CLAIMED', 'RUNNING')) AS commands_running,
  (SELECT count(*) FROM ${t('runtime')} WHERE kind = 'worker_pool' AND status <> 'offline') AS worker_pools_active,
  (SELECT count(*) FROM ${t('runtime')} WHERE kind = 'worker_pool') AS worker_pools_total`;
}

/**
 * Commands completed per minute since `$1` (an event id: snowflake ids carry their millisecond),
 * from the `event_feed` index alone.
 */
function throughputSql(schema: string): string {
  return `SELECT ((event_id >> 22) + ${SNOWFLAKE_EPOCH_MS}) / 60000 AS minute, count(*) AS n
  FROM "${schema}".event
  WHERE event_id >= $1::bigint AND event_type = 'command.completed'
  GROUP BY 1`;
}

/**
 * The newest failed executions (by the `execution_status` index) with the step that failed: the
 * newest `command.failed` of each (by `event_exec_type`).
 */
function failuresSql(schema: string): string {
  return `SELECT x.execution_id, x.path, x.error, x.end_time, x.start_time, f.node_name, f.error AS step_error
  FROM (SELECT execution_id, path, error, end_time, start_time FROM "${schema}".execution
        WHERE status = 'FAILED' ORDER BY start_time DESC LIMIT 50) x
  LEFT JOIN LATERAL (
    SELECT node_name, error FROM "${schema}".event e
    WHERE e.execution_id = x.execution_id AND e.event_type = 'command.failed'
    ORDER BY e.event_id DESC LIMIT 1) f ON true
  ORDER BY coalesce(x.end_time, x.start_time) DESC, x.execution_id DESC
  LIMIT 10`;
}

/** Worker pools with their slots, commands held now and last heartbeat. */
function poolsSql(schema: string): string {
  return `SELECT r.name, r.status, r.capacity, r.heartbeat,
    (SELECT count(*) FROM "${schema}".command c
     WHERE c.worker_id = r.name AND c.status IN ('CLAIMED', 'RUNNING')) AS active
  FROM "${schema}".runtime r
  WHERE r.kind = 'worker_pool'
  ORDER BY r.name
  LIMIT 500`;
}

const MINUTE = 60_000;

function iso(value: unknown): string | null {
  const d = value instanceof Date ? value : typeof value === 'string' ? new Date(value) : undefined;
  return d === undefined || Number.isNaN(d.getTime()) ? null : d.toISOString();
}

export async function dashboardStats(
  store: Store,
  now: number = Date.now(),
): Promise<Omit<wire.DashboardStats, 'status'>> {
  const schema = store.stats().schema;
  const firstMinute = Math.floor(now / MINUTE) - 59;
  const floorId = (BigInt(Math.max(0, firstMinute * MINUTE - SNOWFLAKE_EPOCH_MS)) << 22n).toString();
  const [counts, perMinute, failures, pools] = await Promise.all([
    store.query(countsSql(schema)),
    store.query(throughputSql(schema), [floorId]),
    store.query(failuresSql(schema)),
    store.query(poolsSql(schema)),
  ]);
  const byMinute = new Map(perMinute.rows.map((r) => [Number(r['minute']), Number(r['n'])]));
  const throughput = Array.from({ length: 60 }, (_, i) => ({
    t: new Date((firstMinute + i) * MINUTE).toISOString(),
    count: byMinute.get(firstMinute + i) ?? 0,
  }));
  const latestFailures = failures.rows.map((r) => ({
    execution_id: String(r['execution_id']),
    path: (r['path'] as string | null) ?? null,
    step: (r['node_name'] as string | null) ?? null,
    error: ((r['step_error'] ?? r['error']) as string | null) ?? null,
    at: iso(r['end_time'] ?? r['start_time']),
  }));
  const poolItems = pools.rows.map((r) => ({
    name: String(r['name']),
    status: String(r['status']),
    slots: r['capacity'] === null ? null : Number(r['capacity']),
    active: Number(r['active'] ?? 0),
    last_heartbeat: iso(r['heartbeat']),
    offline: r['status'] === 'offline' || r['status'] === 'inactive',
  }));
  const row = counts.rows[0] ?? {};
  const n = (key: string): number => Number(row[key] ?? 0);
  return {
    catalog: { entries: n('catalog_entries'), paths: n('catalog_paths') },
    credentials: n('credentials'),
    executions: {
      total: n('executions_total'),
      running: n('executions_running'),
      completed: n('executions_completed'),
      failed: n('executions_failed'),
      cancelled: n('executions_cancelled'),
      last_24h: n('executions_last_24h'),
    },
    commands: { pending: n('commands_pending'), running: n('commands_running') },
    worker_pools: { active: n('worker_pools_active'), total: n('worker_pools_total'), items: poolItems },
    running: n('executions_running'),
    failed_24h: n('failed_24h'),
    completed_24h: n('completed_24h'),
    throughput,
    latest_failures: latestFailures,
  };
}
