/** Event log queries (contract 3.1). `{{schema}}` is bound by bindQueries. */

const EVENT_COLUMNS = `execution_id, event_id, catalog_id, parent_event_id, parent_execution_id,
  created_at, event_type, node_id, node_name, node_type, status, duration, context, result, meta,
  error, worker_id, command_key, idempotency_key, current_index`;

export const EVENT_SQL = {
  /**
   * Writes a batch of events and command rows and folds them into the execution and command
   * projections, in one statement (atomic without BEGIN/COMMIT, one round trip). The effect is
   * that of writing the events one by one in input order, then the command rows:
   * - an event is idempotent on (execution_id, event_id), on (execution_id, idempotency_key) and
   *   on a second completion of one command (unique indexes): then it is not inserted and moves
   *   nothing; a later row of the batch that repeats an earlier one is a duplicate of it;
   * - the execution rows (created by `$2`, an array of ExecutionInit, or by their first event)
   *   counts the inserted events, takes catalog and parent ids from the first that has them,
   *   last_event_* from the newest, and from the first terminal event (`execution_status`) its
   *   status, end time and error unless it is already finished;
   * - each command row is folded over the inserted events about it (`command_key`, with
   *   `command_status`) and over the terminal events of its execution, in order: a terminal
   *   event cancels it while unfinished (unless the event is about the command itself: then it
   *   moves it as any event about it does, as the one-event statement did);
   *   the first completion or failure sets completed_at (and error); finished rows keep their
   *   status; started_at is set by the first `RUNNING`; worker_id by the first worker;
   * - command rows of `$3` are inserted after all of that (a known command_id is skipped), so
   *   events of the batch do not touch them; one with a `worker_id` is inserted CLAIMED by that
   *   worker (`claim_event_id`: its `command.claimed` event, which the batch carries), as the
   *   claim statement would leave it.
   * Returns the 1-based positions of the inserted events, the number of commands inserted, the
   * ids of those inserted claimed, and the transaction's time (their claimed_at); a claim whose
   * command or event was not written fails the statement.
   */
  append: `
    WITH input AS (
      SELECT t.ord::integer AS ord,
        (t.e->>'execution_id')::bigint AS execution_id,
        (t.e->>'event_id')::bigint AS event_id,
        (t.e->>'catalog_id')::bigint AS catalog_id,
        (t.e->>'parent_event_id')::bigint AS parent_event_id,
        (t.e->>'parent_execution_id')::bigint AS parent_execution_id,
        COALESCE((t.e->>'created_at')::timestamptz, now()) AS created_at,
        t.e->>'event_type' AS event_type,
        t.e->>'node_id' AS node_id,
        t.e->>'node_name' AS node_name,
        t.e->>'node_type' AS node_type,
        t.e->>'status' AS status,
        (t.e->>'duration')::double precision AS duration,
        t.e->'context' AS context,
        t.e->'result' AS result,
        t.e->'meta' AS meta,
        t.e->>'error' AS error,
        t.e->>'worker_id' AS worker_id,
        t.e->>'command_key' AS command_key,
        t.e->>'idempotency_key' AS idempotency_key,
        (t.e->>'current_index')::integer AS current_index,
        t.e->>'execution_status' AS execution_status,
        t.e->>'command_status' AS command_status
      FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS t(e, ord)
    ),
    -- The input without its big columns (context, result, meta), looked up once per inserted
    -- event below: looking up input itself read the whole batch again for each event, and a
    -- start with a 3.4 MB workload read 500 MB of temporary files (issue 10 item 11).
    keys AS MATERIALIZED (
      SELECT ord, execution_id, event_id, catalog_id, parent_execution_id, created_at, event_type,
        node_name, error, worker_id, command_key, idempotency_key, execution_status, command_status
      FROM input
    ),
    ins AS (
      INSERT INTO {{schema}}.event (execution_id, event_id, catalog_id, parent_event_id,
        parent_execution_id, created_at, event_type, node_id, node_name, node_type, status,
        duration, context, result, meta, error, worker_id, command_key, idempotency_key,
        current_index)
      SELECT execution_id, event_id, catalog_id, parent_event_id, parent_execution_id, created_at,
        event_type, node_id, node_name, node_type, status, duration, context, result, meta, error,
        worker_id, command_key, idempotency_key, current_index
      FROM input ORDER BY ord
      ON CONFLICT DO NOTHING
      RETURNING execution_id, event_id, event_type, command_key, idempotency_key
    ),
    -- Rows equal in every unique column are inserted first-come: the earliest is the one in.
    inserted AS (
      SELECT i.* FROM ins
      CROSS JOIN LATERAL (
        SELECT * FROM keys
        WHERE keys.execution_id = ins.execution_id AND keys.event_id = ins.event_id
          AND keys.event_type = ins.event_type
          AND keys.command_key IS NOT DISTINCT FROM ins.command_key
          AND keys.idempotency_key IS NOT DISTINCT FROM ins.idempotency_key
        ORDER BY keys.ord LIMIT 1) i
    ),
    init AS (
      SELECT (j->>'execution_id')::bigint AS execution_id, (j->>'catalog_id')::bigint AS catalog_id,
        (j->>'parent_execution_id')::bigint AS parent_execution_id, j->>'path' AS path,
        j->'workload' AS workload, j->>'idempotency_key' AS idempotency_key
      FROM jsonb_array_elements(COALESCE($2::jsonb, '[]'::jsonb)) AS s(j)
    ),
    agg AS (
      SELECT execution_id, count(*)::integer AS n,
        (array_agg(catalog_id ORDER BY ord) FILTER (WHERE catalog_id IS NOT NULL))[1] AS catalog_id,
        (array_agg(parent_execution_id ORDER BY ord)
          FILTER (WHERE parent_execution_id IS NOT NULL))[1] AS parent_execution_id,
        (array_agg(created_at ORDER BY ord))[1] AS first_at,
        max(event_id) AS last_event_id,
        (array_agg(event_type ORDER BY event_id DESC))[1] AS last_event_type,
        (array_agg(node_name ORDER BY event_id DESC))[1] AS last_node_name,
        (array_agg(execution_status ORDER BY ord)
          FILTER (WHERE execution_status IS NOT NULL))[1] AS terminal_status,
        (array_agg(created_at ORDER BY ord) FILTER (WHERE execution_status IS NOT NULL))[1] AS terminal_at,
        (array_agg(error ORDER BY ord) FILTER (WHERE execution_status IS NOT NULL))[1] AS terminal_error
      FROM inserted
      GROUP BY execution_id
    ),
    execution AS (
      INSERT INTO {{schema}}.execution AS x (execution_id, catalog_id, parent_execution_id, path,
        workload, idempotency_key, status, start_time, last_event_type, last_node_name,
        last_event_id, event_count, end_time, error)
      SELECT COALESCE(a.execution_id, i.execution_id),
        -- The init's ids count only where it creates the row (it does nothing on a known one).
        CASE WHEN old.execution_id IS NULL THEN COALESCE(i.catalog_id, a.catalog_id) ELSE a.catalog_id END,
        CASE WHEN old.execution_id IS NULL THEN COALESCE(i.parent_execution_id, a.parent_execution_id)
          ELSE a.parent_execution_id END,
        i.path, i.workload, i.idempotency_key, COALESCE(a.terminal_status, 'RUNNING'),
        CASE WHEN i.execution_id IS NOT NULL THEN now() ELSE a.first_at END,
        a.last_event_type, a.last_node_name, a.last_event_id, COALESCE(a.n, 0),
        a.terminal_at, a.terminal_error
      FROM agg a
      FULL JOIN init i ON i.execution_id = a.execution_id
      -- A lookup by key per row (OFFSET 0 keeps it one): the statement is prepared, and a generic
      -- plan made while the table was small joined by a scan of the whole table, 19 ms a step at
      -- 50,000 executions on PGlite (docs/benchmarks.md).
      LEFT JOIN LATERAL (
        SELECT execution_id FROM {{schema}}.execution
        WHERE execution_id = COALESCE(a.execution_id, i.execution_id) OFFSET 0) old ON true
      ON CONFLICT (execution_id) DO UPDATE SET
        catalog_id = COALESCE(x.catalog_id, EXCLUDED.catalog_id),
        parent_execution_id = COALESCE(x.parent_execution_id, EXCLUDED.parent_execution_id),
        event_count = x.event_count + EXCLUDED.event_count,
        last_event_type = CASE WHEN x.last_event_id IS NULL OR EXCLUDED.last_event_id > x.last_event_id
          THEN EXCLUDED.last_event_type ELSE x.last_event_type END,
        last_node_name = CASE WHEN x.last_event_id IS NULL OR EXCLUDED.last_event_id > x.last_event_id
          THEN EXCLUDED.last_node_name ELSE x.last_node_name END,
        last_event_id = GREATEST(x.last_event_id, EXCLUDED.last_event_id),
        status = CASE WHEN x.status = 'RUNNING' THEN EXCLUDED.status ELSE x.status END,
        end_time = CASE WHEN x.status = 'RUNNING' THEN EXCLUDED.end_time ELSE x.end_time END,
        error = CASE WHEN x.status = 'RUNNING' THEN EXCLUDED.error ELSE x.error END,
        updated_at = now()
      WHERE EXCLUDED.event_count > 0
    ),
    -- Every (command, inserted event) pair that moves the command: events about it, and
    -- terminal events of its execution while it is unfinished. A terminal event about the
    -- command itself moves it as an event about it, not as a cancellation.
    touch AS (
      SELECT command_id, ord, event_id, created_at, worker_id, error, command_status,
        bool_or(about) AS about, bool_or(kills) AND NOT bool_or(about) AS kills
      FROM (
        SELECT c.command_id, e.ord, e.event_id, e.created_at, e.worker_id, e.error, e.command_status,
          true AS about, false AS kills
        FROM inserted e CROSS JOIN LATERAL (
          SELECT command_id FROM {{schema}}.command WHERE command_key = e.command_key OFFSET 0) c
        UNION ALL
        SELECT c.command_id, e.ord, e.event_id, e.created_at, e.worker_id, e.error, e.command_status,
          false, true
        FROM inserted e CROSS JOIN LATERAL (
          SELECT command_id FROM {{schema}}.command
          WHERE execution_id = e.execution_id AND status IN ('PENDING', 'CLAIMED', 'RUNNING')
          OFFSET 0) c
        WHERE e.execution_status IS NOT NULL
      ) pairs
      GROUP BY command_id, ord, event_id, created_at, worker_id, error, command_status
    ),
    -- The event that finishes an unfinished command: the first terminal or completion.
    finish AS (
      SELECT DISTINCT ON (t.command_id) t.command_id, t.ord, t.kills, t.command_status,
        t.created_at, t.error
      FROM touch t CROSS JOIN LATERAL (
        SELECT 1 FROM {{schema}}.command
        WHERE command_id = t.command_id AND status IN ('PENDING', 'CLAIMED', 'RUNNING') OFFSET 0) c
      WHERE t.kills OR (t.about AND t.command_status IN ('COMPLETED', 'FAILED'))
      ORDER BY t.command_id, t.ord
    ),
    effects AS (
      SELECT t.command_id,
        (array_agg(t.worker_id ORDER BY t.ord) FILTER (WHERE t.worker_id IS NOT NULL))[1] AS worker_id,
        (array_agg(t.created_at ORDER BY t.ord) FILTER (WHERE t.command_status = 'RUNNING'))[1] AS started_at,
        (array_agg(t.command_status ORDER BY t.ord DESC)
          FILTER (WHERE t.command_status IS NOT NULL))[1] AS last_status,
        max(t.event_id) AS latest_event_id
      FROM touch t
      WHERE t.about
      GROUP BY t.command_id
    ),
    command AS (
      UPDATE {{schema}}.command c SET
        status = CASE WHEN c.status IN ('COMPLETED', 'FAILED', 'CANCELLED') THEN c.status
          WHEN f.command_id IS NULL THEN COALESCE(e.last_status, c.status)
          WHEN f.kills THEN 'CANCELLED' ELSE f.command_status END,
        worker_id = COALESCE(c.worker_id, e.worker_id),
        started_at = COALESCE(c.started_at, e.started_at),
        completed_at = CASE WHEN f.command_id IS NOT NULL AND NOT f.kills THEN f.created_at
          ELSE c.completed_at END,
        error = CASE WHEN f.command_id IS NOT NULL AND NOT f.kills AND f.command_status = 'FAILED'
          THEN f.error ELSE c.error END,
        latest_event_id = GREATEST(c.latest_event_id, e.latest_event_id),
        updated_at = now()
      FROM (SELECT DISTINCT command_id FROM touch) moved
      LEFT JOIN effects e ON e.command_id = moved.command_id
      LEFT JOIN finish f ON f.command_id = moved.command_id
      WHERE c.command_id = moved.command_id
        -- An index scan of the few rows, whatever the estimates of the CTEs above.
        AND c.command_id = ANY (ARRAY(SELECT command_id FROM touch))
    ),
    command_input AS (
      SELECT t.ord, (t.c->>'command_id')::bigint AS command_id, t.c->>'command_key' AS command_key,
        (t.c->>'execution_id')::bigint AS execution_id, (t.c->>'catalog_id')::bigint AS catalog_id,
        (t.c->>'parent_execution_id')::bigint AS parent_execution_id,
        (t.c->>'parent_command_id')::bigint AS parent_command_id, t.c->>'step_name' AS step_name,
        t.c->>'tool_kind' AS tool_kind, t.c->>'execution_pool' AS execution_pool,
        t.c->'context' AS context, t.c->'meta' AS meta, (t.c->>'attempt')::integer AS attempt,
        (t.c->>'iter_index')::integer AS iter_index, (t.c->>'loop_event_id')::bigint AS loop_event_id,
        t.c->>'worker_id' AS worker_id, (t.c->>'claim_event_id')::bigint AS claim_event_id
      FROM jsonb_array_elements($3::jsonb) WITH ORDINALITY AS t(c, ord)
    ),
    command_ins AS (
      INSERT INTO {{schema}}.command (command_id, command_key, event_id, execution_id, catalog_id,
        parent_execution_id, parent_command_id, step_name, tool_kind, execution_pool, context, meta,
        attempt, iter_index, loop_event_id, latest_event_id, status, worker_id, claimed_at)
      SELECT command_id, command_key, command_id, execution_id, catalog_id, parent_execution_id,
        parent_command_id, step_name, tool_kind, execution_pool, context, meta, attempt, iter_index,
        loop_event_id, GREATEST(command_id, claim_event_id),
        CASE WHEN worker_id IS NULL THEN 'PENDING' ELSE 'CLAIMED' END, worker_id,
        CASE WHEN worker_id IS NULL THEN NULL ELSE now() END
      FROM command_input ORDER BY ord
      ON CONFLICT DO NOTHING
      RETURNING command_id, worker_id
    )
    SELECT (SELECT array_agg(ord ORDER BY ord) FROM inserted) AS inserted,
      (SELECT count(*) FROM command_ins)::integer AS commands,
      (SELECT array_agg(command_id::text) FROM command_ins WHERE worker_id IS NOT NULL) AS claimed,
      now() AS now,
      -- A claimed command or its claim event not written (its id already stored) fails the whole
      -- statement (a cast error: plain SQL has no RAISE), so neither stays without the other.
      CASE WHEN (SELECT count(*) FROM command_input WHERE worker_id IS NOT NULL) <> ANY (ARRAY[
          (SELECT count(*) FROM command_ins WHERE worker_id IS NOT NULL),
          (SELECT count(*) FROM inserted i JOIN command_input c ON c.claim_event_id = i.event_id)])
        -- (not a constant, which the planner would fold and fail on every call)
        THEN ('noetl: claimed commands or claim events already stored: '
          || (SELECT count(*) FROM command_input WHERE worker_id IS NOT NULL))::integer
      END AS claim_check`,

  /**
   * `append` for a batch whose events must all be new (`AppendBatch.fresh`) and that the writer
   * has folded already. It inserts the events `$1` (one execution, none terminal), moves the
   * execution row `$2` by `$3` events and the newest `$6`-`$8`, moves the command the events are
   * about by `$9` (at most one move, folded as `append` folds it; a key not stored is skipped),
   * and inserts the command rows `$10` (`$11` of them, `status` and `latest_event_id` given).
   * Any event or command already stored, or an execution row missing, fails the whole statement
   * with a cast error naming `noetl: fresh append refused`. Half the work of `append`, which folds
   * every event against every command it may move (measured: docs/benchmarks.md).
   */
  appendFresh: `
    WITH input AS (
      SELECT (e->>'execution_id')::bigint AS execution_id, (e->>'event_id')::bigint AS event_id,
        (e->>'catalog_id')::bigint AS catalog_id, (e->>'parent_event_id')::bigint AS parent_event_id,
        (e->>'parent_execution_id')::bigint AS parent_execution_id,
        COALESCE((e->>'created_at')::timestamptz, now()) AS created_at, e->>'event_type' AS event_type,
        e->>'node_id' AS node_id, e->>'node_name' AS node_name, e->>'node_type' AS node_type,
        e->>'status' AS status, (e->>'duration')::double precision AS duration,
        e->'context' AS context, e->'result' AS result, e->'meta' AS meta, e->>'error' AS error,
        e->>'worker_id' AS worker_id, e->>'command_key' AS command_key,
        e->>'idempotency_key' AS idempotency_key, (e->>'current_index')::integer AS current_index
      FROM jsonb_array_elements($1::jsonb) AS t(e)
    ),
    ins AS (
      INSERT INTO {{schema}}.event (${EVENT_COLUMNS})
      SELECT ${EVENT_COLUMNS} FROM input
      ON CONFLICT DO NOTHING
      RETURNING 1
    ),
    execution AS (
      UPDATE {{schema}}.execution x SET
        catalog_id = COALESCE(x.catalog_id, $4::bigint),
        parent_execution_id = COALESCE(x.parent_execution_id, $5::bigint),
        event_count = x.event_count + $3::integer,
        last_event_type = CASE WHEN x.last_event_id IS NULL OR $6::bigint > x.last_event_id
          THEN $7::text ELSE x.last_event_type END,
        last_node_name = CASE WHEN x.last_event_id IS NULL OR $6::bigint > x.last_event_id
          THEN $8::text ELSE x.last_node_name END,
        last_event_id = GREATEST(x.last_event_id, $6::bigint),
        end_time = CASE WHEN x.status = 'RUNNING' THEN NULL ELSE x.end_time END,
        error = CASE WHEN x.status = 'RUNNING' THEN NULL ELSE x.error END,
        updated_at = now()
      WHERE x.execution_id = $2::bigint
      RETURNING 1
    ),
    moves AS (
      SELECT c.command_id, m.* FROM jsonb_to_recordset($9::jsonb) AS m(command_key text,
        last_status text, worker_id text, started_at timestamptz, finish_status text,
        finish_at timestamptz, finish_error text, latest_event_id bigint)
      CROSS JOIN LATERAL (
        SELECT command_id FROM {{schema}}.command WHERE command_key = m.command_key OFFSET 0) c
    ),
    command AS (
      UPDATE {{schema}}.command c SET
        status = CASE WHEN c.status IN ('COMPLETED', 'FAILED', 'CANCELLED') THEN c.status
          ELSE COALESCE(m.finish_status, m.last_status, c.status) END,
        worker_id = COALESCE(c.worker_id, m.worker_id),
        started_at = COALESCE(c.started_at, m.started_at),
        completed_at = CASE WHEN m.finish_status IS NOT NULL
          AND c.status IN ('PENDING', 'CLAIMED', 'RUNNING') THEN m.finish_at ELSE c.completed_at END,
        error = CASE WHEN m.finish_status = 'FAILED'
          AND c.status IN ('PENDING', 'CLAIMED', 'RUNNING') THEN m.finish_error ELSE c.error END,
        latest_event_id = GREATEST(c.latest_event_id, m.latest_event_id),
        updated_at = now()
      FROM moves m
      WHERE c.command_id = m.command_id
        -- One row by its key (the writer sends at most one move): an index scan whatever the
        -- tables held when the plan was made. With \`= ANY\` of the moves, a plan made over a
        -- new server's near-empty tables scanned the whole command table at every step.
        AND c.command_id = (SELECT command_id FROM moves)
    ),
    command_ins AS (
      INSERT INTO {{schema}}.command (command_id, command_key, event_id, execution_id, catalog_id,
        parent_execution_id, parent_command_id, step_name, tool_kind, execution_pool, context, meta,
        attempt, iter_index, loop_event_id, latest_event_id, status, worker_id, claimed_at)
      SELECT (c->>'command_id')::bigint, c->>'command_key', (c->>'command_id')::bigint,
        (c->>'execution_id')::bigint, (c->>'catalog_id')::bigint,
        (c->>'parent_execution_id')::bigint, (c->>'parent_command_id')::bigint, c->>'step_name',
        c->>'tool_kind', c->>'execution_pool', c->'context', c->'meta', (c->>'attempt')::integer,
        (c->>'iter_index')::integer, (c->>'loop_event_id')::bigint,
        (c->>'latest_event_id')::bigint, c->>'status', c->>'worker_id',
        CASE WHEN c->>'worker_id' IS NULL THEN NULL ELSE now() END
      FROM jsonb_array_elements($10::jsonb) AS t(c)
      ON CONFLICT DO NOTHING
      RETURNING command_id, worker_id
    )
    SELECT (SELECT array_agg(command_id::text) FROM command_ins WHERE worker_id IS NOT NULL) AS claimed,
      now() AS now,
      -- (not a constant, which the planner would fold and fail on every call)
      CASE WHEN (SELECT count(*) FROM ins) <> $3::integer
          OR (SELECT count(*) FROM execution) <> 1
          OR (SELECT count(*) FROM command_ins) <> $11::integer
        THEN ('noetl: fresh append refused: ' || (SELECT count(*) FROM ins))::integer
      END AS fresh_check`,

  /**
   * After an append whose events must all be new (`AppendBatch.last`): fails (division_by_zero)
   * unless each of the events $2 of execution $1, $3 of them, was written by this transaction.
   */
  appendedAll: `
    SELECT 1 / (count(*) = $3::integer)::integer AS appended_all FROM {{schema}}.event
    WHERE execution_id = $1::bigint AND event_id = ANY ($2::bigint[])
      AND xmin::text::bigint = txid_current() % 4294967296`,

  /** The event that made an insert a no-op; $6: events of the same batch written after it. */
  findDuplicate: `
    SELECT event_id FROM {{schema}}.event
    WHERE execution_id = $1::bigint
      AND (event_id = $2::bigint
        OR idempotency_key = $3::text
        OR ($5::text IN ('command.completed', 'command.failed') AND command_key = $4::text
            AND event_type IN ('command.completed', 'command.failed')))
      AND event_id <> ALL ($6::bigint[])
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

  /**
   * Events of every execution after an id, in id order, from the `event_feed` index alone: the
   * event streams look for new events here, then read the rows they want with `getMany`.
   */
  feed: `
    SELECT execution_id, event_id, event_type FROM {{schema}}.event
    WHERE event_id > $1::bigint
    ORDER BY event_id
    LIMIT $2::integer`,

  /** Whole events by (execution_id, event_id) pairs, in id order. */
  getMany: `
    SELECT ${EVENT_COLUMNS} FROM {{schema}}.event
    WHERE (execution_id, event_id) IN (
      SELECT * FROM unnest($1::bigint[], $2::bigint[]))
    ORDER BY event_id`,

  countByType: `
    SELECT event_type, count(*)::integer AS n FROM {{schema}}.event
    WHERE execution_id = $1::bigint
    GROUP BY event_type`,

  /** The claim event of a command (by the `event_exec_type` index: its execution is `$3`). */
  findClaim: `
    SELECT event_id FROM {{schema}}.event
    WHERE execution_id = $3::bigint AND event_type = 'command.claimed'
      AND command_key = $1::text AND worker_id = $2::text
    ORDER BY event_id DESC
    LIMIT 1`,
} as const;
