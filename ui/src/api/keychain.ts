import type { wire } from '../../../src/shared/index.js';
import { api, get, query } from './client.js';

// The keychain cache (docs/api.md): tokens and secrets resolved for a catalog entry, scoped
// global, local (one execution) or shared (an execution tree). Listed without their data.

export type KeychainScope = 'global' | 'local' | 'shared';

export type KeychainEntry = wire.KeychainSummary;

export const listKeychain = (catalogId: string, signal?: AbortSignal) =>
  get<{ catalog_id: string; entries: KeychainEntry[]; count: number }>(
    `/api/keychain/catalog/${encodeURIComponent(catalogId)}`,
    signal,
  );

/** What the page sets: a global entry of one catalog version, its value write-only. */
export interface KeychainPut {
  readonly data: Record<string, string>;
  readonly credential_type: string;
  readonly expires_in: number;
}

export const putKeychainEntry = (catalogId: string, name: string, body: KeychainPut) =>
  api<{ status: string; cache_key: string; expires_at: string }>(
    'POST',
    `/api/keychain/${encodeURIComponent(catalogId)}/${encodeURIComponent(name)}`,
    { ...body, scope_type: 'global' },
  );

export const deleteKeychainEntry = (catalogId: string, e: KeychainEntry) =>
  api<{ status: string; cache_key: string }>(
    'DELETE',
    `/api/keychain/${encodeURIComponent(catalogId)}/${encodeURIComponent(e.keychain_name)}${query({
      scope_type: e.scope_type,
      execution_id: e.scope_type === 'global' ? null : e.execution_id,
    })}`,
  );
