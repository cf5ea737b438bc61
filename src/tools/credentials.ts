import { isPlainObject, NoetlError } from '../shared/index.js';
import type { ConfigMap } from './config-helpers.js';
import type { CredentialRecord, ToolServices } from './types.js';

/**
 * How a credential becomes tool fields (contract 9), in one place: the pipeline applies it to a
 * tool's `auth: <alias>` before the tool runs, and the tools that resolve aliases themselves
 * (transfer's source and target, http's `auth: {credential}` map) call the same functions.
 */

/** The field families a credential maps into; a tool declares one as `ToolDefinition.authTarget`. */
export type CredentialTarget = 'postgres' | 'http' | 'nats';

/** Canonical credential types. */
export const CREDENTIAL_TYPES = ['postgres', 'bearer', 'basic', 'api_key', 'nats'] as const;
export type CredentialType = (typeof CREDENTIAL_TYPES)[number];

const TYPE_ALIASES: Readonly<Record<string, CredentialType>> = {
  postgres: 'postgres',
  postgresql: 'postgres',
  pg: 'postgres',
  bearer: 'bearer',
  bearer_token: 'bearer',
  token: 'bearer',
  basic: 'basic',
  http_basic: 'basic',
  api_key: 'api_key',
  apikey: 'api_key',
  nats: 'nats',
};

/** Types each target accepts. */
const TARGET_TYPES: Readonly<Record<CredentialTarget, readonly CredentialType[]>> = {
  postgres: ['postgres'],
  http: ['bearer', 'basic', 'api_key'],
  nats: ['nats'],
};

/** Tool field <- credential data keys, first present wins (contract 9). */
const FIELD_TABLE: Readonly<Record<'postgres' | 'nats', Readonly<Record<string, readonly string[]>>>> = {
  postgres: {
    host: ['db_host', 'host', 'hostname', 'server'],
    port: ['db_port', 'port'],
    user: ['db_user', 'user', 'username'],
    password: ['db_password', 'password'],
    database: ['db_name', 'database', 'dbname', 'db'],
    connection_string: ['connection_string', 'dsn', 'database_url', 'url', 'uri'],
    schema: ['db_schema', 'schema'],
    sslmode: ['sslmode', 'ssl_mode'],
  },
  nats: {
    url: ['nats_url', 'url', 'servers', 'server'],
    user: ['nats_user', 'user', 'username'],
    password: ['nats_password', 'password'],
    token: ['nats_token', 'token'],
    creds: ['nats_creds', 'creds', 'credentials_file'],
  },
};

/** The canonical type of a credential type name, or undefined when it is not supported. */
export function canonicalCredentialType(type: string): CredentialType | undefined {
  return TYPE_ALIASES[type.trim().toLowerCase()];
}

function unsupported(record: CredentialRecord, target: CredentialTarget): NoetlError {
  const supported = TARGET_TYPES[target];
  const known = canonicalCredentialType(record.type) !== undefined;
  const message = known
    ? `credential '${record.name}' has type '${record.type}', which a ${target} tool cannot use (supported: ${supported.join(', ')})`
    : `credential '${record.name}' has unsupported type '${record.type}' (supported: ${CREDENTIAL_TYPES.join(', ')}; a ${target} tool takes ${supported.join(', ')})`;
  return new NoetlError('CREDENTIAL_UNSUPPORTED', message, {
    details: { alias: record.name, type: record.type, supported: [...supported] },
  });
}

function firstOf(data: ConfigMap, keys: readonly string[]): unknown {
  for (const key of keys) {
    const value = data[key];
    if (value !== undefined && value !== null && value !== '') return value;
  }
  return undefined;
}

function text(data: ConfigMap, ...keys: string[]): string | undefined {
  const value = firstOf(data, keys);
  return typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;
}

/**
 * The tool fields a credential gives a tool of `target`: postgres and nats connection fields, or
 * http's `{auth: {type, token|username|password|header}}`. CREDENTIAL_UNSUPPORTED when the type
 * does not fit the target.
 */
export function credentialFields(
  target: CredentialTarget,
  record: CredentialRecord,
): Record<string, unknown> {
  const type = canonicalCredentialType(record.type);
  if (type === undefined || !TARGET_TYPES[target].includes(type)) throw unsupported(record, target);
  const data = record.data;
  if (target === 'http') {
    if (type === 'basic') {
      return { auth: { type, username: text(data, 'username', 'user'), password: text(data, 'password') } };
    }
    if (type === 'api_key') {
      const header = text(data, 'header', 'header_name', 'api_key_header');
      return {
        auth: {
          type,
          token: text(data, 'api_key', 'key', 'token', 'value'),
          ...(header !== undefined ? { header } : {}),
        },
      };
    }
    return { auth: { type, token: text(data, 'token', 'access_token', 'bearer_token', 'api_key') } };
  }
  const out: Record<string, unknown> = {};
  for (const [field, keys] of Object.entries(FIELD_TABLE[target])) {
    const value = firstOf(data, keys);
    if (value !== undefined) out[field] = value;
  }
  return out;
}

/** The alias a config names in `auth` (string, or a map with `credential`/`alias`) or `credential`. */
export function authAlias(config: ConfigMap): string | undefined {
  const auth = config.auth;
  if (typeof auth === 'string' && auth.trim() !== '') return auth.trim();
  if (isPlainObject(auth)) {
    const named = auth.credential ?? auth.alias;
    if (typeof named === 'string' && named.trim() !== '') return named.trim();
  }
  const credential = config.credential;
  if (typeof credential === 'string' && credential.trim() !== '') return credential.trim();
  return undefined;
}

/** Resolves an alias through the host, with a clear error when the host has no credential source. */
export async function resolveCredentialAlias(
  alias: string,
  services: ToolServices,
  signal: AbortSignal,
): Promise<CredentialRecord> {
  if (!services.resolveCredential) {
    throw new NoetlError(
      'CREDENTIAL_NOT_FOUND',
      `credential '${alias}' cannot be resolved here: no credential source is configured`,
      { details: { alias } },
    );
  }
  const record = await services.resolveCredential(alias, signal);
  services.secrets?.addSecretFields(record.data);
  return record;
}

/**
 * `config` with its credential applied: for an alias in `auth`/`credential`, the credential's
 * fields (explicit non-empty config keys win) and no `auth`/`credential` key; for http, an inline
 * `auth` map. A config without an alias is returned as it is.
 */
export async function applyToolAuth(
  target: CredentialTarget,
  config: ConfigMap,
  services: ToolServices,
  signal: AbortSignal,
): Promise<ConfigMap> {
  const alias = authAlias(config);
  if (alias === undefined) return config;
  const record = await resolveCredentialAlias(alias, services, signal);
  const fields = credentialFields(target, record);
  const { auth, credential: _credential, ...rest } = config;
  if (target === 'http') {
    // Keys written beside the alias in an `auth: {credential, header}` map override the credential's.
    const overrides = isPlainObject(auth) ? auth : {};
    const { credential: _c, alias: _a, ...extra } = overrides;
    return { ...rest, auth: { ...(fields.auth as ConfigMap), ...extra } };
  }
  const out: Record<string, unknown> = { ...fields };
  for (const [key, value] of Object.entries(rest)) {
    if (value !== undefined && value !== null && value !== '') out[key] = value;
    else if (!(key in out)) out[key] = value;
  }
  return out;
}
