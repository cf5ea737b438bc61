/** Execution projection queries. */

const EXECUTION_COLUMNS = `execution_id, catalog_id, parent_execution_id, path, status,
  last_event_type, last_node_name, last_event_id, event_count, start_time, end_time, error,
  workload, idempotency_key, updated_at`;

export const EXECUTION_SQL = {
  get: `SELECT ${EXECUTION_COLUMNS} FROM {{schema}}.execution WHERE execution_id = $1::bigint`,

  list: `
    SELECT ${EXECUTION_COLUMNS} FROM {{schema}}.execution
    WHERE ($1::bigint IS NULL OR catalog_id = $1::bigint)
      AND ($2::text IS NULL OR path = $2::text)
      AND ($3::text IS NULL OR status = $3::text)
      AND ($4::bigint IS NULL OR parent_execution_id = $4::bigint)
    ORDER BY start_time DESC, execution_id DESC
    LIMIT $5::integer OFFSET $6::integer`,

  findByIdempotencyKey: `
    SELECT ${EXECUTION_COLUMNS} FROM {{schema}}.execution
    WHERE idempotency_key = $1::text
      AND start_time >= now() - $2::double precision * interval '1 millisecond'
    ORDER BY start_time DESC, execution_id DESC
    LIMIT 1`,

  listRunningOlderThan: `
    SELECT ${EXECUTION_COLUMNS} FROM {{schema}}.execution
    WHERE status = 'RUNNING'
      AND start_time <= now() - $1::double precision * interval '1 millisecond'
    ORDER BY start_time, execution_id`,
} as const;
