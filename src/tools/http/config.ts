import { isPlainObject } from '../../shared/index.js';
import {
  configError,
  optBoolean,
  optSeconds,
  optString,
  optStringMap,
  pick,
  reqString,
  scalarText,
  typeName,
  type ConfigMap,
} from '../config-helpers.js';

export type ResponseType = 'json' | 'text' | 'binary';

/** `auth` as written: an alias resolved by the host, or an inline map. */
export type HttpAuth =
  | { readonly type: 'none' }
  | { readonly type: 'alias'; readonly alias: string; readonly overrides: ConfigMap }
  | { readonly type: 'inline'; readonly fields: ConfigMap };

export type HttpBody =
  | { readonly kind: 'none' }
  | { readonly kind: 'json'; readonly value: unknown }
  | { readonly kind: 'raw'; readonly text: string }
  | { readonly kind: 'form'; readonly fields: Readonly<Record<string, string>> };

export interface HttpConfig {
  readonly url: string;
  readonly method: string;
  readonly headers: Readonly<Record<string, string>>;
  /** Query parameters in order; repeated keys for list values. */
  readonly params: readonly (readonly [string, string])[];
  readonly body: HttpBody;
  readonly timeoutMs: number;
  readonly followRedirects: boolean;
  readonly responseType: ResponseType;
  readonly auth: HttpAuth;
}

const KIND = 'http';
const DEFAULT_TIMEOUT_MS = 30_000;
const RESPONSE_TYPES: readonly ResponseType[] = ['json', 'text', 'binary'];

function readParams(config: ConfigMap): [string, string][] {
  const params = pick(config, 'params', 'query');
  if (params === undefined) return [];
  if (!isPlainObject(params)) throw configError(KIND, `'params' must be a map, got ${typeName(params)}`);
  const out: [string, string][] = [];
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null) continue;
    if (Array.isArray(value)) {
      for (const item of value) if (item !== null && item !== undefined) out.push([key, scalarText(item)]);
    } else {
      out.push([key, scalarText(value)]);
    }
  }
  return out;
}

function readBody(config: ConfigMap): HttpBody {
  const json = pick(config, 'json');
  if (json !== undefined) return { kind: 'json', value: json };
  const form = pick(config, 'form');
  if (form !== undefined) {
    if (!isPlainObject(form)) throw configError(KIND, `'form' must be a map, got ${typeName(form)}`);
    return { kind: 'form', fields: optStringMap(KIND, config, 'form') ?? {} };
  }
  const body = pick(config, 'body');
  if (body === undefined) return { kind: 'none' };
  if (typeof body === 'string') return { kind: 'raw', text: body };
  return { kind: 'json', value: body };
}

function readAuth(config: ConfigMap): HttpAuth {
  const auth = pick(config, 'auth');
  if (auth === undefined || auth === '') return { type: 'none' };
  if (typeof auth === 'string') return { type: 'alias', alias: auth, overrides: {} };
  if (!isPlainObject(auth))
    throw configError(KIND, `'auth' must be an alias or a map, got ${typeName(auth)}`);
  const credential = auth.credential ?? auth.alias;
  if (typeof credential === 'string' && credential !== '') {
    return { type: 'alias', alias: credential, overrides: auth };
  }
  return { type: 'inline', fields: auth };
}

export function readHttpConfig(config: ConfigMap): HttpConfig {
  const url = reqString(KIND, config, 'url', 'endpoint');
  try {
    new URL(url);
  } catch {
    throw configError(KIND, `'url' is not an absolute URL: ${url}`);
  }
  const method = (optString(KIND, config, 'method') ?? 'GET').trim().toUpperCase();
  if (!/^[A-Z]+$/.test(method)) throw configError(KIND, `'method' is not an HTTP method: ${method}`);
  const body = readBody(config);
  if (body.kind !== 'none' && (method === 'GET' || method === 'HEAD')) {
    throw configError(KIND, `a ${method} request cannot have a body ('json', 'body' or 'form')`);
  }
  const responseType = (optString(KIND, config, 'response_type') ?? 'json').toLowerCase();
  if (!RESPONSE_TYPES.includes(responseType as ResponseType)) {
    throw configError(
      KIND,
      `'response_type' must be one of ${RESPONSE_TYPES.join(', ')}, got ${responseType}`,
    );
  }
  return {
    url,
    method,
    headers: optStringMap(KIND, config, 'headers') ?? {},
    params: readParams(config),
    body,
    timeoutMs: optSeconds(KIND, config, 'timeout_seconds', 'timeout') ?? DEFAULT_TIMEOUT_MS,
    followRedirects: optBoolean(KIND, config, 'follow_redirects') ?? true,
    responseType: responseType as ResponseType,
    auth: readAuth(config),
  };
}
