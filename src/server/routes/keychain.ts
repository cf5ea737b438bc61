import type { FastifyInstance } from 'fastify';
import { NoetlError, NotFoundError, wire } from '../../shared/index.js';
import type { JsonValue } from '../../shared/index.js';
import type { KeychainRecord } from '../../store/index.js';
import type { SecretCipher } from '../crypto/index.js';
import type { RouteContext } from './context.js';
import { ID_PATTERN, checkId, idInput, idString, toId } from './schemas.js';

/**
 * The keychain cache (contract 4.1, 9): resolved secrets and minted tokens per catalog entry,
 * scoped `global` (`<name>:<catalog_id>:global`), `local` to one execution
 * (`<name>:<catalog_id>:<execution_id>`) or `shared` by an execution tree
 * (`<name>:<catalog_id>:shared:<execution_id>`). `data` and `renew_config` (which may hold client
 * secrets) are sealed like credentials.
 */

type Scope = 'local' | 'global' | 'shared';

interface KeyParams {
  readonly catalog_id: string;
  readonly keychain_name: string;
}
interface KeyQuery {
  readonly execution_id?: string;
  readonly scope_type?: Scope;
}
interface PutBody {
  readonly data?: JsonValue;
  readonly token_data?: JsonValue;
  readonly scope_type?: Scope;
  readonly execution_id?: string | number;
  readonly parent_execution_id?: string | number;
  readonly expires_in?: number;
  readonly ttl_seconds?: number;
  readonly expires_at?: string;
  readonly auto_renew?: boolean;
  readonly renew_config?: JsonValue;
  readonly credential_type?: string;
  readonly cache_type?: 'secret' | 'token';
}

const tags = ['keychain'];
const scopeSchema = { type: 'string', enum: ['local', 'global', 'shared'] } as const;
const keyParams = {
  type: 'object',
  required: ['catalog_id', 'keychain_name'],
  properties: {
    catalog_id: idString,
    keychain_name: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,256}$' },
  },
} as const;
const keyQuery = {
  type: 'object',
  properties: { execution_id: { type: 'string', pattern: ID_PATTERN }, scope_type: scopeSchema },
} as const;

/** Default lifetimes when the request gives none (NoETL's: 1 h local, 24 h otherwise). */
const DEFAULT_TTL_SECONDS: Readonly<Record<Scope, number>> = { local: 3600, global: 86400, shared: 86400 };

export function cacheKey(
  name: string,
  catalogId: string,
  scope: Scope,
  executionId: string | undefined,
): string {
  if (scope === 'global') return `${name}:${catalogId}:global`;
  if (executionId === undefined) {
    throw new NoetlError('BAD_REQUEST', `scope_type '${scope}' needs an execution_id`);
  }
  return scope === 'local'
    ? `${name}:${catalogId}:${executionId}`
    : `${name}:${catalogId}:shared:${executionId}`;
}

function keyOf(params: KeyParams, query: KeyQuery): string {
  const catalogId = checkId(params.catalog_id, 'catalog_id');
  return cacheKey(params.keychain_name, catalogId, query.scope_type ?? 'global', query.execution_id);
}

function renewConfigOf(entry: KeychainRecord, cipher: SecretCipher): JsonValue {
  return typeof entry.renewConfig === 'string' ? cipher.open(entry.renewConfig) : entry.renewConfig;
}

function summary(entry: KeychainRecord): wire.KeychainSummary {
  return {
    keychain_name: entry.keychainName,
    cache_key: entry.cacheKey,
    scope_type: entry.scopeType,
    credential_type: entry.credentialType,
    cache_type: entry.cacheType,
    execution_id: entry.executionId,
    expires_at: entry.expiresAt,
    expired: entry.expired,
    auto_renew: entry.autoRenew,
    access_count: entry.accessCount,
    accessed_at: entry.accessedAt,
    created_at: entry.createdAt,
  };
}

export function registerKeychainRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { store, cipher } = ctx;

  app.get<{ Params: KeyParams; Querystring: KeyQuery }>(
    '/api/keychain/:catalog_id/:keychain_name',
    {
      schema: {
        tags,
        summary: 'Read a keychain entry (status found, with data; or expired, without)',
        response: { 200: wire.KeychainEntry },
        params: keyParams,
        querystring: keyQuery,
      },
    },
    async (request) => {
      const key = keyOf(request.params, request.query);
      const entry = await store.keychain.get(key);
      if (!entry) throw new NotFoundError(`no keychain entry '${key}'`);
      const base = {
        keychain_name: entry.keychainName,
        catalog_id: entry.catalogId,
        cache_key: entry.cacheKey,
        scope_type: entry.scopeType,
        credential_type: entry.credentialType,
        expires_at: entry.expiresAt,
        auto_renew: entry.autoRenew,
        access_count: entry.accessCount,
      };
      if (entry.expired) {
        return {
          status: 'expired',
          ...base,
          expired: true,
          ...(entry.autoRenew ? { renew_config: renewConfigOf(entry, cipher) } : {}),
        };
      }
      return { status: 'found', ...base, expired: false, data: cipher.open(entry.dataEncrypted) };
    },
  );

  app.post<{ Params: KeyParams; Body: PutBody }>(
    '/api/keychain/:catalog_id/:keychain_name',
    {
      schema: {
        tags,
        summary: 'Store a keychain entry (data is encrypted at rest)',
        response: { 200: wire.KeychainStored },
        params: keyParams,
        body: {
          type: 'object',
          properties: {
            data: {},
            token_data: {},
            scope_type: scopeSchema,
            execution_id: idInput,
            parent_execution_id: idInput,
            expires_in: { type: 'integer', minimum: 1 },
            ttl_seconds: { type: 'integer', minimum: 1 },
            expires_at: { type: 'string', format: 'date-time' },
            auto_renew: { type: 'boolean' },
            renew_config: {},
            credential_type: { type: 'string', minLength: 1, maxLength: 128 },
            cache_type: { type: 'string', enum: ['secret', 'token'] },
          },
        },
      },
    },
    async (request) => {
      const b = request.body;
      const data = b.data ?? b.token_data;
      if (data === undefined) throw new NoetlError('BAD_REQUEST', 'give `data` to store');
      const scope = b.scope_type ?? 'global';
      const executionId = b.execution_id === undefined ? undefined : toId(b.execution_id, 'execution_id');
      const catalogId = checkId(request.params.catalog_id, 'catalog_id');
      const key = cacheKey(request.params.keychain_name, catalogId, scope, executionId);
      const ttl = b.expires_in ?? b.ttl_seconds ?? DEFAULT_TTL_SECONDS[scope];
      const expiresAt = b.expires_at ?? new Date(ctx.clock.now() + ttl * 1000).toISOString();
      const saved = await store.keychain.put({
        cacheKey: key,
        keychainName: request.params.keychain_name,
        catalogId,
        credentialType: b.credential_type ?? 'generic',
        cacheType: b.cache_type ?? 'token',
        scopeType: scope,
        ...(executionId === undefined ? {} : { executionId }),
        ...(b.parent_execution_id === undefined
          ? {}
          : { parentExecutionId: toId(b.parent_execution_id, 'parent_execution_id') }),
        dataEncrypted: cipher.seal(data),
        expiresAt,
        autoRenew: b.auto_renew ?? false,
        ...(b.renew_config === undefined ? {} : { renewConfig: cipher.seal(b.renew_config) }),
      });
      return { status: 'success', cache_key: saved.cacheKey, expires_at: saved.expiresAt };
    },
  );

  app.delete<{ Params: KeyParams; Querystring: KeyQuery }>(
    '/api/keychain/:catalog_id/:keychain_name',
    {
      schema: {
        tags,
        summary: 'Delete a keychain entry',
        params: keyParams,
        querystring: keyQuery,
        response: { 200: wire.KeychainDeleted },
      },
    },
    async (request) => {
      const key = keyOf(request.params, request.query);
      if (!(await store.keychain.delete(key))) throw new NotFoundError(`no keychain entry '${key}'`);
      return { status: 'deleted', cache_key: key };
    },
  );

  app.get<{ Params: { catalog_id: string } }>(
    '/api/keychain/catalog/:catalog_id',
    {
      schema: {
        tags,
        summary: 'Keychain entries of a catalog entry (never their data)',
        response: { 200: wire.KeychainList },
        params: { type: 'object', required: ['catalog_id'], properties: { catalog_id: idString } },
      },
    },
    async (request) => {
      const catalogId = checkId(request.params.catalog_id, 'catalog_id');
      const entries = await store.keychain.listByCatalog(catalogId);
      return { catalog_id: catalogId, entries: entries.map(summary), count: entries.length };
    },
  );
}
