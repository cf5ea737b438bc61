/** Command queue queries (contract 3.6 and the outbox / reaper sweeps). */

const COMMAND_COLUMNS = `command_id, command_key, event_id, execution_id, catalog_id,
  parent_execution_id, parent_command_id, step_name, tool_kind, execution_pool, status, worker_id,
  claimed_at, started_at, completed_at, attempt, context, meta, result, error, iter_index,
  loop_event_id, latest_event_id, published_at, created_at, updated_at`;

/** The same columns of the row alias `c`. */
const C_COMMAND_COLUMNS = COMMAND_COLUMNS.replace(/(\w+)/g, 'c.$1');

export const COMMAND_SQL = {
  get: `SELECT ${COMMAND_COLUMNS} FROM {{schema}}.command WHERE command_id = $1::bigint`,

  getByKey: `SELECT ${COMMAND_COLUMNS} FROM {{schema}}.command WHERE command_key = $1::text`,

  listByExecution: `
    SELECT ${COMMAND_COLUMNS} FROM {{schema}}.command
    WHERE execution_id = $1::bigint ORDER BY command_id`,

  /**
   * The claim of contract 3.6 as one statement (atomic without BEGIN/COMMIT, one round trip):
   * - head: the row, its execution's status, and the per-command advisory lock (a racing
   *   claimer fails fast instead of queueing on the row lock);
   * - claimed: the gate itself. `status = 'PENDING'` is re-checked under the row lock, so
   *   exactly one claimer wins, also where advisory locks mean nothing (PGlite's one session);
   * - event: the winner's `command.claimed` event ($3 is its id), folded into the execution
   *   (whose new event_count is returned).
   * Returns one row when the command exists; its `command_id` column is NULL when the claim
   * did not happen, and head_* say why.
   */
  claim: `
    WITH head AS (
      SELECT c.command_id, c.command_key, x.status AS execution_status,
        pg_try_advisory_xact_lock(hashtext(c.command_key)) AS locked
      FROM {{schema}}.command c
      LEFT JOIN {{schema}}.execution x ON x.execution_id = c.execution_id
      WHERE c.command_id = $1::bigint
    ),
    claimed AS (
      UPDATE {{schema}}.command c SET status = 'CLAIMED', worker_id = $2::text, claimed_at = now(),
        latest_event_id = GREATEST(c.latest_event_id, $3::bigint), updated_at = now()
      FROM head
      WHERE c.command_id = head.command_id AND head.locked
        AND head.execution_status IS DISTINCT FROM 'CANCELLED' AND c.status = 'PENDING'
      RETURNING ${C_COMMAND_COLUMNS}
    ),
    event AS (
      INSERT INTO {{schema}}.event (execution_id, event_id, catalog_id, parent_event_id,
        parent_execution_id, event_type, node_id, node_name, node_type, status, result, meta,
        worker_id, command_key)
      SELECT execution_id, $3::bigint, catalog_id, event_id, parent_execution_id,
        'command.claimed', step_name, step_name, tool_kind, 'RUNNING',
        jsonb_build_object('status', 'RUNNING',
          'context', jsonb_build_object('command_id', command_key, 'worker_id', $2::text)),
        jsonb_build_object('command_id', command_key, 'worker_id', $2::text, 'actionable', false),
        $2::text, command_key
      FROM claimed
      RETURNING execution_id, event_id, node_name
    ),
    projected AS (
      UPDATE {{schema}}.execution x SET
        event_count = x.event_count + 1,
        last_event_type = CASE WHEN x.last_event_id IS NULL OR event.event_id > x.last_event_id
          THEN 'command.claimed' ELSE x.last_event_type END,
        last_node_name = CASE WHEN x.last_event_id IS NULL OR event.event_id > x.last_event_id
          THEN event.node_name ELSE x.last_node_name END,
        last_event_id = GREATEST(x.last_event_id, event.event_id),
        updated_at = now()
      FROM event
      WHERE x.execution_id = event.execution_id
      RETURNING x.event_count
    )
    SELECT head.locked AS head_locked, head.execution_status AS head_execution_status,
      head.command_key AS head_command_key, (SELECT event_count FROM projected) AS execution_event_count,
      claimed.*
    FROM head LEFT JOIN claimed ON true`,

  listClaimedBy: `
    SELECT ${COMMAND_COLUMNS} FROM {{schema}}.command
    WHERE status IN ('CLAIMED', 'RUNNING') AND worker_id = ANY ($1::text[])
    ORDER BY command_id`,

  listStale: `
    SELECT ${COMMAND_COLUMNS} FROM {{schema}}.command
    WHERE status IN ('CLAIMED', 'RUNNING')
      AND updated_at <= now() - $1::double precision * interval '1 millisecond'
    ORDER BY updated_at
    LIMIT $2::integer`,

  listUnpublished: `
    SELECT ${COMMAND_COLUMNS} FROM {{schema}}.command
    WHERE published_at IS NULL AND status = 'PENDING'
      AND created_at <= now() - $1::double precision * interval '1 millisecond'
    ORDER BY created_at
    LIMIT $2::integer`,

  listUnclaimed: `
    SELECT ${COMMAND_COLUMNS} FROM {{schema}}.command
    WHERE status = 'PENDING' AND published_at IS NOT NULL
      AND published_at <= now() - $1::double precision * interval '1 millisecond'
    ORDER BY published_at
    LIMIT $2::integer`,

  // Rows locked by a transaction in flight (a claim, an ingest) are skipped, not waited for: a
  // mark is an outbox hint, and one UPDATE over many rows that waited on a row lock while
  // holding the others deadlocked with a claim that held one row and wanted another (each such
  // deadlock stalled both for PostgreSQL's deadlock_timeout). A row left unmarked is claimed by
  // then, or published once more by the sweep, which the claim gate makes harmless.
  markPublished: `
    UPDATE {{schema}}.command SET published_at = now()
    WHERE command_id IN (
      SELECT command_id FROM {{schema}}.command
      WHERE command_id = ANY ($1::bigint[])
      FOR UPDATE SKIP LOCKED)`,

  releaseUnstarted: `
    UPDATE {{schema}}.command c SET status = 'PENDING', worker_id = NULL, claimed_at = NULL,
      started_at = NULL, attempt = c.attempt + 1, published_at = NULL, updated_at = now()
    WHERE c.command_id IN (
      SELECT command_id FROM {{schema}}.command
      WHERE status = 'CLAIMED'
        AND claimed_at <= now() - $1::double precision * interval '1 millisecond'
      ORDER BY claimed_at
      LIMIT $2::integer
      FOR UPDATE SKIP LOCKED)
    AND c.status = 'CLAIMED'
    RETURNING ${C_COMMAND_COLUMNS}`,

  release: `
    UPDATE {{schema}}.command SET status = 'PENDING', worker_id = NULL, claimed_at = NULL,
      started_at = NULL, attempt = attempt + 1, published_at = NULL, updated_at = now()
    WHERE command_id = $1::bigint AND status IN ('CLAIMED', 'RUNNING')
      AND ($2::text IS NULL OR worker_id = $2::text)`,
} as const;
