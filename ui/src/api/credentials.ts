import { api, get, post, query } from './client.js';
import type { Credential, Json } from './types.js';

// Credentials (docs/api.md): secret values are write-only. The UI never asks for `include_data`;
// its editor reads only the names of a credential's fields (`include_fields=true`).

/** A credential with the names of its data fields (never their values). */
export interface CredentialFields extends Credential {
  fields: string[];
}

export interface NewCredential {
  name: string;
  type: string;
  data: Record<string, string>;
  description?: string;
  tags?: string[];
}

/** A merge update: data fields given are set (null removes one), the others are kept. */
export interface CredentialPatch {
  type?: string;
  description?: string;
  tags?: string[];
  data?: Record<string, string | null>;
}

const one = (name: string) => `/api/credentials/${encodeURIComponent(name)}`;

export const listCredentials = (q: string, type: string, signal?: AbortSignal) =>
  get<{ items: Credential[] }>(`/api/credentials${query({ q, type })}`, signal);
export const credentialFields = (name: string, signal?: AbortSignal) =>
  get<CredentialFields>(`${one(name)}?include_fields=true`, signal);
export const createCredential = (body: NewCredential) => post<Credential>('/api/credentials', body);
export const patchCredential = (name: string, body: CredentialPatch) =>
  api<Credential>('PATCH', one(name), body);
export const deleteCredential = (name: string) =>
  api<{ status: string; id: string; name: string }>('DELETE', one(name));

/** Types the tools understand (src/tools/credentials.ts) and the fields each one reads. */
export const CREDENTIAL_TYPES: Record<string, string[]> = {
  postgres: ['host', 'port', 'user', 'password', 'database'],
  bearer: ['token'],
  basic: ['username', 'password'],
  api_key: ['api_key', 'header'],
  nats: ['url', 'user', 'password'],
  generic: [],
};

export type { Credential, Json };
