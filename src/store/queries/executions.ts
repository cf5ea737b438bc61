/** Execution projection queries. */

const OVERVIEW_COLUMNS = `execution_id, catalog_id, parent_execution_id, path, status,
  last_event_type, last_node_name, last_event_id, event_count, start_time, end_time, error,
  idempotency_key, updated_at`;
/**
 * The workload is stored once, on the execution's `playbook_started` event (`context.workload`,
 * what a replay reads); the row's own column, read first, holds one only when the execution's
 * start gave it (the server's did before 2026-12-06; a 3.4 MB workload was then encoded,
 * written and synced twice, issue 10 item 11).
 */
const WORKLOAD = `COALESCE(workload, (
    SELECT e.context->'workload' FROM {{schema}}.event e
    WHERE e.execution_id = {{schema}}.execution.execution_id
      AND e.event_type IN ('playbook_started', 'playbook.initialized', 'workflow.initialized')
    ORDER BY e.event_id LIMIT 1)) AS workload`;
const EXECUTION_COLUMNS = `${OVERVIEW_COLUMNS}, ${WORKLOAD}`;

export const EXECUTION_SQL = {
  get: `SELECT ${EXECUTION_COLUMNS} FROM {{schema}}.execution WHERE execution_id = $1::bigint`,

  /**
   * `get` without the workload: a 100,000-item workload made every status or events read of its
   * execution cost 400 ms on PGlite, blocking the server (issue 10 item 11).
   */
  overview: `SELECT ${OVERVIEW_COLUMNS} FROM {{schema}}.execution WHERE execution_id = $1::bigint`,

  list: `
    SELECT ${EXECUTION_COLUMNS} FROM {{schema}}.execution
    WHERE ($1::bigint IS NULL OR catalog_id = $1::bigint)
      AND ($2::text IS NULL OR path = $2::text)
      AND ($3::text IS NULL OR status = $3::text)
      AND ($4::bigint IS NULL OR parent_execution_id = $4::bigint)
    ORDER BY start_time DESC, execution_id DESC
    LIMIT $5::integer OFFSET $6::integer`,

  /**
   * A page of the executions list, newest first, by keyset: `$2, $3` is the row the page starts
   * after (start_time in microseconds since the epoch, execution_id), or above any row. Both
   * bounds are index conditions on `execution_start`, so page 1000 costs what page 1 does. No
   * optional filter here: on PGlite the statement is prepared, and a generic plan of `$n IS NULL
   * OR ...` conditions misjudges them and sorts the whole table (600 ms at 100,000 rows).
   */
  page: `
    SELECT ${EXECUTION_COLUMNS},
      (extract(epoch FROM start_time) * 1000000)::bigint AS start_micros
    FROM {{schema}}.execution
    WHERE start_time >= $1::timestamptz
      AND (start_time, execution_id)
        < ('epoch'::timestamptz + $2::bigint * interval '1 microsecond', $3::bigint)
    ORDER BY start_time DESC, execution_id DESC
    LIMIT $4::integer OFFSET $5::integer`,

  /** `page` with filters (catalog, status, path prefix, path substring). */
  pageFiltered: `
    SELECT ${EXECUTION_COLUMNS},
      (extract(epoch FROM start_time) * 1000000)::bigint AS start_micros
    FROM {{schema}}.execution
    WHERE start_time >= $1::timestamptz
      AND (start_time, execution_id)
        < ('epoch'::timestamptz + $2::bigint * interval '1 microsecond', $3::bigint)
      AND ($6::bigint IS NULL OR catalog_id = $6::bigint)
      AND ($7::text IS NULL OR status = $7::text)
      AND ($8::text IS NULL OR starts_with(path, $8::text))
      AND ($9::text IS NULL OR strpos(lower(path), lower($9::text)) > 0)
    ORDER BY start_time DESC, execution_id DESC
    LIMIT $4::integer OFFSET $5::integer`,

  findByIdempotencyKey: `
    SELECT ${EXECUTION_COLUMNS} FROM {{schema}}.execution
    WHERE idempotency_key = $1::text
      AND start_time >= now() - $2::double precision * interval '1 millisecond'
    ORDER BY start_time DESC, execution_id DESC
    LIMIT 1`,

  /** findByIdempotencyKey for many keys at once: $1 keys, $2 their windows (ms), same order. */
  findByIdempotencyKeys: `
    SELECT k.key AS idempotency_key, x.execution_id
    FROM unnest($1::text[], $2::double precision[]) AS k(key, within_ms)
    CROSS JOIN LATERAL (
      SELECT execution_id FROM {{schema}}.execution
      WHERE idempotency_key = k.key
        AND start_time >= now() - k.within_ms * interval '1 millisecond'
      ORDER BY start_time DESC, execution_id DESC
      LIMIT 1) x`,

  listRunningOlderThan: `
    SELECT ${EXECUTION_COLUMNS} FROM {{schema}}.execution
    WHERE status = 'RUNNING'
      AND start_time <= now() - $1::double precision * interval '1 millisecond'
    ORDER BY start_time, execution_id`,
} as const;
