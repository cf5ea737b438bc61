import { NoetlError } from '../../shared/index.js';
import type { ConfigMap } from '../config-helpers.js';
import { credentialFields, resolveCredentialAlias } from '../credentials.js';
import type { ToolContext } from '../types.js';
import type { HttpAuth } from './config.js';

const TYPE_ALIASES: Readonly<Record<string, string>> = {
  bearer: 'bearer',
  token: 'bearer',
  bearer_token: 'bearer',
  oauth2: 'bearer',
  basic: 'basic',
  http_basic: 'basic',
  api_key: 'api_key',
  apikey: 'api_key',
  none: 'none',
};

function str(fields: ConfigMap, ...keys: string[]): string | undefined {
  for (const key of keys) {
    const v = fields[key];
    if (typeof v === 'string' && v !== '') return v;
    if (typeof v === 'number') return String(v);
  }
  return undefined;
}

function need(value: string | undefined, what: string, type: string): string {
  if (value === undefined) {
    throw new NoetlError('CREDENTIAL_NOT_FOUND', `http: ${type} auth needs '${what}'`);
  }
  return value;
}

/** Headers for one set of auth fields (`{type, token, username, password, header}`). */
export function authHeaders(fields: ConfigMap): Record<string, string> {
  const given = str(fields, 'type', 'kind')?.toLowerCase();
  const type =
    given !== undefined
      ? TYPE_ALIASES[given]
      : str(fields, 'username', 'user') !== undefined
        ? 'basic'
        : str(fields, 'token', 'access_token') !== undefined
          ? 'bearer'
          : 'none';
  switch (type) {
    case 'none':
      return {};
    case 'bearer':
      return {
        Authorization: `Bearer ${need(str(fields, 'token', 'access_token', 'bearer_token'), 'token', type)}`,
      };
    case 'basic': {
      const user = need(str(fields, 'username', 'user'), 'username', type);
      const password = str(fields, 'password') ?? '';
      return { Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` };
    }
    case 'api_key': {
      const header = str(fields, 'header', 'header_name', 'api_key_header') ?? 'X-API-Key';
      return { [header]: need(str(fields, 'token', 'api_key', 'key', 'value'), 'token', type) };
    }
    case undefined:
    default:
      throw new NoetlError(
        'CREDENTIAL_UNSUPPORTED',
        `http: auth type '${given ?? ''}' is not supported (supported: bearer, basic, api_key, none)`,
        {
          details: { supported: ['bearer', 'basic', 'api_key', 'none'] },
        },
      );
  }
}

/** Resolves `auth` (alias through the host, or inline) to request headers. */
export async function resolveAuthHeaders(ctx: ToolContext, auth: HttpAuth): Promise<Record<string, string>> {
  if (auth.type === 'none') return {};
  if (auth.type === 'inline') return authHeaders(auth.fields);
  const record = await resolveCredentialAlias(auth.alias, ctx.services, ctx.signal);
  const { credential: _c, alias: _a, ...overrides } = auth.overrides;
  const { auth: fields } = credentialFields('http', record) as { auth: ConfigMap };
  return authHeaders({ ...fields, ...overrides });
}
