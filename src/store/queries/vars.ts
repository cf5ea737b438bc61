/** Execution variables (`noetl.transient`, contract 4.1 /api/vars). */

const VAR_COLUMNS = `execution_id, var_name, var_type, var_value, source_step, created_at,
  accessed_at, access_count`;

export const VAR_SQL = {
  /** Upserts a batch given as parallel arrays (names unique within the batch). */
  upsert: `
    INSERT INTO {{schema}}.transient (execution_id, var_name, var_type, var_value, source_step)
    SELECT $1::bigint, v.name, v.type, v.value::jsonb, v.source_step
    FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) AS v (name, type, value, source_step)
    ON CONFLICT (execution_id, var_name) DO UPDATE SET
      var_type = EXCLUDED.var_type,
      var_value = EXCLUDED.var_value,
      source_step = EXCLUDED.source_step`,

  list: `
    SELECT ${VAR_COLUMNS} FROM {{schema}}.transient
    WHERE execution_id = $1::bigint
    ORDER BY created_at, var_name`,

  get: `
    UPDATE {{schema}}.transient SET access_count = access_count + 1, accessed_at = now()
    WHERE execution_id = $1::bigint AND var_name = $2::text
    RETURNING ${VAR_COLUMNS}`,

  delete: `
    DELETE FROM {{schema}}.transient WHERE execution_id = $1::bigint AND var_name = $2::text`,

  clear: `DELETE FROM {{schema}}.transient WHERE execution_id = $1::bigint`,
} as const;
