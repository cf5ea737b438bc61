/** The result store (`noetl.result_store`, contract 1.12 PUT /api/result). */

export const RESULT_SQL = {
  insert: `
    INSERT INTO {{schema}}.result_store
      (result_id, execution_id, name, scope, source_step, data, bytes, sha256, media_type)
    VALUES ($1::bigint, $2::bigint, $3::text, $4::text, $5::text, $6::text, $7::bigint, $8::text, $9::text)
    RETURNING created_at`,

  get: `
    SELECT data FROM {{schema}}.result_store
    WHERE result_id = $1::bigint AND execution_id = $2::bigint AND name = $3::text`,
} as const;
