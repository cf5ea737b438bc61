/** Schedules and their fires (docs/triggers.md). */

const SCHEDULE_COLUMNS = `schedule_id, playbook_path, playbook_version, cron, enabled, timezone,
  next_run_at, last_run_at, last_status, input_payload, catchup, catchup_limit, overlap,
  description, created_at, updated_at`;

export const SCHEDULE_SQL = {
  insert: `
    INSERT INTO {{schema}}.schedule (schedule_id, playbook_path, playbook_version, cron, enabled,
      timezone, next_run_at, input_payload, catchup, catchup_limit, overlap, description)
    VALUES ($1::bigint, $2::text, $3::text, $4::text, $5::boolean, $6::text, $7::timestamptz,
      $8::jsonb, $9::text, $10::integer, $11::text, $12::text)
    RETURNING ${SCHEDULE_COLUMNS}`,

  update: `
    UPDATE {{schema}}.schedule SET
      playbook_path = $2::text, playbook_version = $3::text, cron = $4::text,
      enabled = $5::boolean, timezone = $6::text, next_run_at = $7::timestamptz,
      input_payload = $8::jsonb, catchup = $9::text, catchup_limit = $10::integer,
      overlap = $11::text, description = $12::text, updated_at = now()
    WHERE schedule_id = $1::bigint
    RETURNING ${SCHEDULE_COLUMNS}`,

  get: `SELECT ${SCHEDULE_COLUMNS} FROM {{schema}}.schedule WHERE schedule_id = $1::bigint`,

  list: `
    SELECT ${SCHEDULE_COLUMNS} FROM {{schema}}.schedule
    WHERE ($1::text IS NULL OR playbook_path = $1::text)
    ORDER BY schedule_id
    LIMIT $2::integer`,

  delete: `DELETE FROM {{schema}}.schedule WHERE schedule_id = $1::bigint`,

  /** Enabled schedules whose next fire is due at `$1`, soonest first. */
  due: `
    SELECT ${SCHEDULE_COLUMNS} FROM {{schema}}.schedule
    WHERE enabled AND next_run_at IS NOT NULL AND next_run_at <= $1::timestamptz
    ORDER BY next_run_at
    LIMIT $2::integer`,

  /**
   * Moves a schedule past a fire. Monotonic: a replica that fired an older tick late cannot move
   * next_run_at backwards, and an edit made meanwhile (cron changed) is not overwritten.
   */
  advance: `
    UPDATE {{schema}}.schedule SET
      last_run_at = $2::timestamptz, next_run_at = $3::timestamptz, last_status = $4::text
    WHERE schedule_id = $1::bigint AND cron = $5::text
      AND (last_run_at IS NULL OR last_run_at <= $2::timestamptz)`,

  recordFire: `
    INSERT INTO {{schema}}.schedule_fire (schedule_id, fire_time, execution_id, outcome, error)
    VALUES ($1::bigint, $2::timestamptz, $3::bigint, $4::text, $5::text)
    ON CONFLICT (schedule_id, fire_time) DO NOTHING`,

  fires: `
    SELECT schedule_id, fire_time, execution_id, outcome, error, created_at
    FROM {{schema}}.schedule_fire WHERE schedule_id = $1::bigint
    ORDER BY fire_time DESC LIMIT $2::integer`,

  /** The schedule and fire time that started an execution. */
  fireOfExecution: `
    SELECT schedule_id, fire_time, execution_id, outcome, error, created_at
    FROM {{schema}}.schedule_fire WHERE execution_id = $1::bigint LIMIT 1`,
} as const;
