/** Runtime registry (worker pools, servers, brokers; contract 4.1 /api/worker/pool/*). */

const RUNTIME_COLUMNS = `runtime_id, name, kind, uri, status, labels, capabilities, capacity,
  runtime, heartbeat, created_at, updated_at`;

export const RUNTIME_SQL = {
  // A worker process sends its own `runtime.instance_id`. Registering a name under another
  // instance than the stored one means the name's previous process is gone (a worker restarted
  // under the same WORKER_ID): the commands it claimed are released in the same statement and
  // published again by the outbox sweep. The same instance registering again (its control plane
  // lost the row) releases nothing.
  register: `
    WITH previous AS (
      SELECT runtime->>'instance_id' AS instance FROM {{schema}}.runtime
      WHERE kind = $3::text AND name = $2::text
    ), superseded AS (
      UPDATE {{schema}}.command SET status = 'PENDING', worker_id = NULL, claimed_at = NULL,
        started_at = NULL, attempt = attempt + 1, published_at = NULL, updated_at = now()
      WHERE $3::text = 'worker_pool' AND worker_id = $2::text AND status IN ('CLAIMED', 'RUNNING')
        AND ($9::jsonb->>'instance_id') IS NOT NULL
        AND EXISTS (SELECT 1 FROM previous WHERE instance IS DISTINCT FROM ($9::jsonb->>'instance_id'))
      RETURNING command_id
    )
    INSERT INTO {{schema}}.runtime (runtime_id, name, kind, uri, status, labels, capabilities,
      capacity, runtime)
    VALUES ($1::bigint, $2::text, $3::text, $4::text, $5::text, $6::jsonb, $7::jsonb,
      $8::integer, $9::jsonb)
    ON CONFLICT (kind, name) DO UPDATE SET
      uri = EXCLUDED.uri,
      status = EXCLUDED.status,
      labels = EXCLUDED.labels,
      capabilities = EXCLUDED.capabilities,
      capacity = EXCLUDED.capacity,
      runtime = EXCLUDED.runtime,
      heartbeat = now(),
      updated_at = now()
    RETURNING ${RUNTIME_COLUMNS}`,

  heartbeat: `
    UPDATE {{schema}}.runtime SET heartbeat = now(), updated_at = now(),
      status = CASE WHEN status = 'offline' THEN 'active' ELSE status END
    WHERE name = $1::text AND ($2::text IS NULL OR kind = $2::text)`,

  deregister: `
    UPDATE {{schema}}.runtime SET status = 'inactive', updated_at = now()
    WHERE name = $1::text AND ($2::text IS NULL OR kind = $2::text)`,

  list: `
    SELECT ${RUNTIME_COLUMNS} FROM {{schema}}.runtime
    WHERE ($1::text IS NULL OR kind = $1::text)
      AND ($2::text IS NULL OR status = $2::text)
      AND ($3::text IS NULL OR name = $3::text)
    ORDER BY kind, name`,

  markOffline: `
    UPDATE {{schema}}.runtime SET status = 'offline', updated_at = now()
    WHERE status NOT IN ('offline', 'inactive')
      AND heartbeat <= now() - $1::double precision * interval '1 millisecond'
    RETURNING name`,
} as const;
