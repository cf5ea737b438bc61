import type { JsonValue } from '../../shared/index.js';
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
  (SELECT count(*) FROM ${t('command')} WHERE status = 'PENDING') AS commands_pending,
  (SELECT count(*) FROM ${t('command')} WHERE status IN ('CLAIMED', 'RUNNING')) AS commands_running,
  (SELECT count(*) FROM ${t('runtime')} WHERE kind = 'worker_pool' AND status <> 'offline') AS worker_pools_active,
  (SELECT count(*) FROM ${t('runtime')} WHERE kind = 'worker_pool') AS worker_pools_total`;
}

export async function dashboardStats(store: Store): Promise<Record<string, JsonValue>> {
  const { rows } = await store.query(countsSql(store.stats().schema));
  const row = rows[0] ?? {};
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
    worker_pools: { active: n('worker_pools_active'), total: n('worker_pools_total') },
  };
}
