/** Event log queries (contract 3.1). `{{schema}}` is bound by bindQueries. */

const EVENT_COLUMNS = `execution_id, event_id, catalog_id, parent_event_id, parent_execution_id,
  created_at, event_type, node_id, node_name, node_type, status, duration, context, result, meta,
  error, worker_id, command_key, idempotency_key, current_index`;

export const EVENT_SQL = {
  /**
   * Writes one event and folds it into the execution and command projections, in one statement
   * (so a single event needs no explicit transaction and one round trip). Idempotent on
   * (execution_id, event_id), on (execution_id, idempotency_key) and on a second completion of
   * one command: then no row is returned and nothing changes.
   *
   * $21 is the terminal status the event gives its execution (NULL for none): the first one
   * wins, and the execution's unfinished commands become CANCELLED. $22 is the status the event
   * gives its command ($18); finished commands keep theirs.
   */
  append: `
    WITH ins AS (
      INSERT INTO {{schema}}.event (execution_id, event_id, catalog_id, parent_event_id,
        parent_execution_id, created_at, event_type, node_id, node_name, node_type, status,
        duration, context, result, meta, error, worker_id, command_key, idempotency_key,
        current_index)
      VALUES ($1::bigint, $2::bigint, $3::bigint, $4::bigint, $5::bigint,
        COALESCE($6::timestamptz, now()), $7::text, $8::text, $9::text, $10::text, $11::text,
        $12::double precision, $13::jsonb, $14::jsonb, $15::jsonb, $16::text, $17::text,
        $18::text, $19::text, $20::integer)
      ON CONFLICT DO NOTHING
      RETURNING created_at
    ),
    execution AS (
      INSERT INTO {{schema}}.execution AS x (execution_id, catalog_id, parent_execution_id,
        status, start_time, last_event_type, last_node_name, last_event_id, event_count,
        end_time, error)
      SELECT $1::bigint, $3::bigint, $5::bigint, COALESCE($21::text, 'RUNNING'), ins.created_at,
        $7::text, $9::text, $2::bigint, 1,
        CASE WHEN $21::text IS NOT NULL THEN ins.created_at END,
        CASE WHEN $21::text IS NOT NULL THEN $16::text END
      FROM ins
      ON CONFLICT (execution_id) DO UPDATE SET
        catalog_id = COALESCE(x.catalog_id, EXCLUDED.catalog_id),
        parent_execution_id = COALESCE(x.parent_execution_id, EXCLUDED.parent_execution_id),
        event_count = x.event_count + 1,
        last_event_type = CASE WHEN x.last_event_id IS NULL OR EXCLUDED.last_event_id > x.last_event_id
          THEN EXCLUDED.last_event_type ELSE x.last_event_type END,
        last_node_name = CASE WHEN x.last_event_id IS NULL OR EXCLUDED.last_event_id > x.last_event_id
          THEN EXCLUDED.last_node_name ELSE x.last_node_name END,
        last_event_id = GREATEST(x.last_event_id, EXCLUDED.last_event_id),
        status = CASE WHEN x.status = 'RUNNING' THEN EXCLUDED.status ELSE x.status END,
        end_time = CASE WHEN x.status = 'RUNNING' THEN EXCLUDED.end_time ELSE x.end_time END,
        error = CASE WHEN x.status = 'RUNNING' THEN EXCLUDED.error ELSE x.error END,
        updated_at = now()
    ),
    cancelled AS (
      UPDATE {{schema}}.command SET status = 'CANCELLED', updated_at = now()
      WHERE $21::text IS NOT NULL AND execution_id = $1::bigint
        AND status IN ('PENDING', 'CLAIMED', 'RUNNING') AND EXISTS (SELECT 1 FROM ins)
    ),
    command AS (
      UPDATE {{schema}}.command c SET
        status = CASE WHEN c.status IN ('COMPLETED', 'FAILED', 'CANCELLED') OR $22::text IS NULL
          THEN c.status ELSE $22::text END,
        worker_id = COALESCE(c.worker_id, $17::text),
        started_at = CASE WHEN $22::text = 'RUNNING' THEN COALESCE(c.started_at, ins.created_at)
          ELSE c.started_at END,
        completed_at = CASE WHEN $22::text IN ('COMPLETED', 'FAILED')
            AND c.status NOT IN ('COMPLETED', 'FAILED', 'CANCELLED')
          THEN ins.created_at ELSE c.completed_at END,
        error = CASE WHEN $22::text = 'FAILED' AND c.status NOT IN ('COMPLETED', 'FAILED', 'CANCELLED')
          THEN $16::text ELSE c.error END,
        latest_event_id = GREATEST(c.latest_event_id, $2::bigint),
        updated_at = now()
      FROM ins
      WHERE c.command_key = $18::text
    )
    SELECT created_at FROM ins`,

  /** The event that made an insert a no-op. */
  findDuplicate: `
    SELECT event_id FROM {{schema}}.event
    WHERE execution_id = $1::bigint
      AND (event_id = $2::bigint
        OR idempotency_key = $3::text
        OR ($5::text IN ('command.completed', 'command.failed') AND command_key = $4::text
            AND event_type IN ('command.completed', 'command.failed')))
    ORDER BY event_id
    LIMIT 1`,

  list: `
    SELECT ${EVENT_COLUMNS} FROM {{schema}}.event
    WHERE execution_id = $1::bigint
      AND ($2::bigint IS NULL OR event_id > $2::bigint)
      AND ($3::text[] IS NULL OR event_type = ANY ($3::text[]))
    ORDER BY event_id
    LIMIT $4::integer`,

  get: `
    SELECT ${EVENT_COLUMNS} FROM {{schema}}.event
    WHERE execution_id = $1::bigint AND event_id = $2::bigint`,

  countByType: `
    SELECT event_type, count(*)::integer AS n FROM {{schema}}.event
    WHERE execution_id = $1::bigint
    GROUP BY event_type`,

  findClaim: `
    SELECT event_id FROM {{schema}}.event
    WHERE command_key = $1::text AND event_type = 'command.claimed' AND worker_id = $2::text
    ORDER BY event_id DESC
    LIMIT 1`,
} as const;
