/** Catalog queries (contract 4.1 /api/catalog/*). */

const CATALOG_COLUMNS = `catalog_id, path, version, kind, content, layout, payload, meta, archived,
  created_at`;

export const CATALOG_SQL = {
  ensureKind: `INSERT INTO {{schema}}.resource (name) VALUES ($1::text) ON CONFLICT DO NOTHING`,

  /** Version = max + 1 over the path's rows, archived ones included (a deleted newest version's
   * number is given again). Callers hold the per-path lock, so two registrations never pick
   * the same number. */
  register: `
    INSERT INTO {{schema}}.catalog (catalog_id, path, version, kind, content, layout, payload, meta)
    SELECT $1::bigint, $2::text, COALESCE(max(version), 0) + 1, $3::text, $4::text, $5::jsonb,
      $6::jsonb, $7::jsonb
    FROM {{schema}}.catalog WHERE path = $2::text
    RETURNING ${CATALOG_COLUMNS}`,

  list: `
    SELECT ${CATALOG_COLUMNS} FROM {{schema}}.catalog
    WHERE ($1::text IS NULL OR lower(kind) = lower($1::text))
      AND ($2::text IS NULL OR path = $2::text)
      AND ($3::boolean OR NOT archived)
    ORDER BY created_at DESC, catalog_id DESC
    LIMIT $4::integer`,

  get: `SELECT ${CATALOG_COLUMNS} FROM {{schema}}.catalog WHERE catalog_id = $1::bigint`,

  getLatest: `
    SELECT ${CATALOG_COLUMNS} FROM {{schema}}.catalog
    WHERE path = $1::text AND NOT archived
    ORDER BY version DESC
    LIMIT 1`,

  getVersion: `
    SELECT ${CATALOG_COLUMNS} FROM {{schema}}.catalog
    WHERE path = $1::text AND version = $2::integer`,

  /** Versions that executions refer to are archived, the others deleted. */
  delete: `
    WITH target AS (
      SELECT c.catalog_id,
        EXISTS (SELECT 1 FROM {{schema}}.execution x WHERE x.catalog_id = c.catalog_id) AS used
      FROM {{schema}}.catalog c
      WHERE c.path = $1::text AND ($2::integer IS NULL OR c.version = $2::integer)
        AND NOT c.archived
    ),
    archived AS (
      UPDATE {{schema}}.catalog c SET archived = true
      FROM target t WHERE c.catalog_id = t.catalog_id AND t.used
      RETURNING c.catalog_id, c.version, true AS archived
    ),
    deleted AS (
      DELETE FROM {{schema}}.catalog c
      USING target t WHERE c.catalog_id = t.catalog_id AND NOT t.used
      RETURNING c.catalog_id, c.version, false AS archived
    )
    SELECT catalog_id, version, archived FROM archived
    UNION ALL
    SELECT catalog_id, version, archived FROM deleted
    ORDER BY version`,

  restore: `
    UPDATE {{schema}}.catalog SET archived = false
    WHERE path = $1::text AND ($2::integer IS NULL OR version = $2::integer) AND archived
    RETURNING ${CATALOG_COLUMNS}`,
} as const;
