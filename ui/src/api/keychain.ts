import { api, get, query } from './client.js';

// The keychain cache (docs/api.md): tokens and secrets resolved for a catalog entry, scoped
// global, local (one execution) or shared (an execution tree). Listed without their data.

export type KeychainScope = 'global' | 'local' | 'shared';

export interface KeychainEntry {
  keychain_name: string;
  cache_key: string;
  scope_type: KeychainScope;
  credential_type: string;
  cache_type: string;
  execution_id: string | null;
  expires_at: string;
  expired: boolean;
  auto_renew: boolean;
  access_count: number;
  accessed_at: string | null;
  created_at: string;
}

export const listKeychain = (catalogId: string, signal?: AbortSignal) =>
  get<{ catalog_id: string; entries: KeychainEntry[]; count: number }>(
    `/api/keychain/catalog/${encodeURIComponent(catalogId)}`,
    signal,
  );

export const deleteKeychainEntry = (catalogId: string, e: KeychainEntry) =>
  api<{ status: string; cache_key: string }>(
    'DELETE',
    `/api/keychain/${encodeURIComponent(catalogId)}/${encodeURIComponent(e.keychain_name)}${query({
      scope_type: e.scope_type,
      execution_id: e.scope_type === 'global' ? null : e.execution_id,
    })}`,
  );
