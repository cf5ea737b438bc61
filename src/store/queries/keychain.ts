/** Keychain cache rows (contract 4.1 /api/keychain/*, section 9). */

const KEYCHAIN_COLUMNS = `cache_key, keychain_name, catalog_id, credential_type, cache_type,
  scope_type, execution_id, parent_execution_id, data_encrypted, schema, expires_at, created_at,
  accessed_at, access_count, auto_renew, renew_config, expires_at <= now() AS expired`;

export const KEYCHAIN_SQL = {
  put: `
    INSERT INTO {{schema}}.keychain (cache_key, keychain_name, catalog_id, credential_type,
      cache_type, scope_type, execution_id, parent_execution_id, data_encrypted, schema,
      expires_at, auto_renew, renew_config)
    VALUES ($1::text, $2::text, $3::bigint, $4::text, $5::text, $6::text, $7::bigint, $8::bigint,
      $9::text, $10::jsonb, $11::timestamptz, $12::boolean, $13::jsonb)
    ON CONFLICT (cache_key) DO UPDATE SET
      keychain_name = EXCLUDED.keychain_name,
      catalog_id = EXCLUDED.catalog_id,
      credential_type = EXCLUDED.credential_type,
      cache_type = EXCLUDED.cache_type,
      scope_type = EXCLUDED.scope_type,
      execution_id = EXCLUDED.execution_id,
      parent_execution_id = EXCLUDED.parent_execution_id,
      data_encrypted = EXCLUDED.data_encrypted,
      schema = EXCLUDED.schema,
      expires_at = EXCLUDED.expires_at,
      auto_renew = EXCLUDED.auto_renew,
      renew_config = EXCLUDED.renew_config
    RETURNING ${KEYCHAIN_COLUMNS}`,

  get: `
    UPDATE {{schema}}.keychain SET access_count = access_count + 1, accessed_at = now()
    WHERE cache_key = $1::text
    RETURNING ${KEYCHAIN_COLUMNS}`,

  delete: `DELETE FROM {{schema}}.keychain WHERE cache_key = $1::text`,

  listByCatalog: `
    SELECT ${KEYCHAIN_COLUMNS} FROM {{schema}}.keychain
    WHERE catalog_id = $1::bigint
    ORDER BY keychain_name, cache_key`,

  purgeExpired: `DELETE FROM {{schema}}.keychain WHERE expires_at <= now()`,
} as const;
