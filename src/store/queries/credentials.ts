/** Credential queries. The store keeps `data_encrypted` as opaque text. */

const SUMMARY_COLUMNS = `id, name, type, schema, meta, tags, description, created_at, updated_at`;

/**
 * $1 = name, $2 = id (or NULL when the key cannot be an id): a key of digits is an id only, any
 * other key a name only, so a name can never shadow another credential's id (names may not be
 * all digits; the routes refuse them).
 */
const BY_ID_OR_NAME = `(CASE WHEN $2::bigint IS NULL THEN name = $1::text ELSE id = $2::bigint END)`;

export const CREDENTIAL_SQL = {
  upsert: `
    INSERT INTO {{schema}}.credential (id, name, type, data_encrypted, schema, meta, tags,
      description)
    VALUES ($1::bigint, $2::text, $3::text, $4::text, $5::jsonb, $6::jsonb, $7::text[], $8::text)
    ON CONFLICT (name) DO UPDATE SET
      type = EXCLUDED.type,
      data_encrypted = EXCLUDED.data_encrypted,
      schema = EXCLUDED.schema,
      meta = EXCLUDED.meta,
      tags = EXCLUDED.tags,
      description = EXCLUDED.description,
      updated_at = now()
    RETURNING ${SUMMARY_COLUMNS}`,

  /** One row by id, locked until the transaction ends (a merge update reads then writes it). */
  getForUpdate: `
    SELECT ${SUMMARY_COLUMNS}, data_encrypted FROM {{schema}}.credential
    WHERE id = $1::bigint FOR UPDATE`,

  /** Replaces every field of the row with this id (its name too); the id is kept. */
  update: `
    UPDATE {{schema}}.credential SET name = $2::text, type = $3::text, data_encrypted = $4::text,
      schema = $5::jsonb, meta = $6::jsonb, tags = $7::text[], description = $8::text,
      updated_at = now()
    WHERE id = $1::bigint
    RETURNING ${SUMMARY_COLUMNS}`,

  list: `
    SELECT ${SUMMARY_COLUMNS} FROM {{schema}}.credential
    WHERE ($1::text IS NULL OR type = $1::text)
      AND ($2::text IS NULL
        OR strpos(lower(name), lower($2::text)) > 0
        OR strpos(lower(coalesce(description, '')), lower($2::text)) > 0)
    ORDER BY name`,

  get: `
    SELECT ${SUMMARY_COLUMNS}, data_encrypted FROM {{schema}}.credential
    WHERE ${BY_ID_OR_NAME}
    ORDER BY (name = $1::text) DESC
    LIMIT 1`,

  delete: `
    DELETE FROM {{schema}}.credential
    WHERE id = (SELECT id FROM {{schema}}.credential WHERE ${BY_ID_OR_NAME}
                ORDER BY (name = $1::text) DESC LIMIT 1)`,
} as const;
