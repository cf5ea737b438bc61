import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { RESULT_MAX_BYTES } from '../../src/shared/result-ref.js';

/**
 * The bad-input sweep of the HTTP API: for every route, malformed JSON, wrong types, missing
 * fields, unknown and malformed ids, oversized bodies, content types a web page can send
 * cross-site (text/plain, forms, multipart), JSON nested 5,000 levels deep, NUL characters in
 * body strings and in the URL, and each route's own bad bodies (`badBodies`). Every answer must
 * be a 4xx JSON `{error, status, code}`, and the server must keep serving.
 *
 * Extend it by adding SweepRoute entries (the orchestration routes add theirs to
 * CONTROL_PLANE_ROUTES); `uncoveredRoutes` finds routes of the OpenAPI document missing here.
 */

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';

export interface SweepRoute {
  readonly method: Method;
  /** Route pattern as fastify has it (`/api/vars/:execution_id`). */
  readonly pattern: string;
  /** A URL of the route whose ids are well-formed but unknown; expected 404 unless `unknownStatus`. */
  readonly url: string;
  /** Expected status for `url` with a valid body (default 404; e.g. 200 for list routes). */
  readonly unknownStatus?: number;
  /** The URL with a malformed id in place of an id (expected 400), if the route has ids. */
  readonly badIdUrl?: string;
  /** A body of the right shape (with unknown ids), for routes that take one. */
  readonly body?: Record<string, unknown>;
  /** Fields of `body` that have a declared type: each is sent with a value of the wrong type. */
  readonly typed?: readonly string[];
  /** Whether `{}` is refused (the body has required fields). */
  readonly requiresFields?: boolean;
  /** The route stores NUL in its body as U+FFFD (event ingest): NUL is no 400 there, any 4xx. */
  readonly acceptsNul?: boolean;
  /** The route's own body limit, when it has one (the result store's 64 MiB). */
  readonly bodyLimitBytes?: number;
  /** Bodies of the right shape that the route must refuse with 400 (e.g. SQL parameters). */
  /** Bodies the route must refuse: 400 unless `expect` says which 4xx (e.g. 422 for a playbook). */
  readonly badBodies?: readonly {
    readonly name: string;
    readonly body: Record<string, unknown>;
    readonly expect?: readonly number[];
  }[];
}

export interface SweepCase {
  readonly name: string;
  readonly request: InjectOptions;
  /** Allowed statuses; default any 4xx. */
  readonly expect?: readonly number[];
}

const JSON_HEADERS = { 'content-type': 'application/json' };

/** A value of another JSON type than `value`. */
function wrongType(value: unknown): unknown {
  if (typeof value === 'string') return { not: 'a string' };
  if (Array.isArray(value)) return 'not an array';
  if (value !== null && typeof value === 'object') return 'not an object';
  if (typeof value === 'number') return 'not a number';
  if (typeof value === 'boolean') return 'not a boolean';
  return ['unexpected'];
}

/** `value` with a NUL character in every string it holds (keys included). */
function withNul(value: unknown): unknown {
  if (typeof value === 'string') return `${value}\u0000x`;
  if (Array.isArray(value)) return value.length === 0 ? ['\u0000'] : value.map(withNul);
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value);
    if (entries.length === 0) return { 'k\u0000': 'v' };
    return Object.fromEntries(entries.map(([k, v]) => [k, withNul(v)]));
  }
  return '\u0000';
}

/** JSON text of arrays nested `levels` deep. */
function deep(levels: number): string {
  return `${'['.repeat(levels)}${']'.repeat(levels)}`;
}

export interface SweepOptions {
  /** The server's body limit: oversized cases send more than this. */
  readonly bodyLimitBytes: number;
}

export function sweepCases(routes: readonly SweepRoute[], options: SweepOptions): SweepCase[] {
  const out: SweepCase[] = [];
  for (const r of routes) {
    const id = `${r.method} ${r.pattern}`;
    const send = (
      name: string,
      request: Omit<InjectOptions, 'method' | 'url'>,
      expect?: number[],
      url = r.url,
    ) =>
      out.push({
        name: `${id}: ${name}`,
        request: { method: r.method, url, ...request },
        ...(expect ? { expect } : {}),
      });
    const validPayload = r.body === undefined ? undefined : JSON.stringify(r.body);
    send('unknown ids', validPayload === undefined ? {} : { headers: JSON_HEADERS, payload: validPayload }, [
      r.unknownStatus ?? 404,
    ]);
    // NUL (U+0000) in a path parameter or the query string: PostgreSQL text cannot hold it
    const nulUrl = r.url.includes('?') ? r.url.replace('?', '%00?') : `${r.url}%00`;
    send(
      'NUL in the URL',
      validPayload === undefined ? {} : { headers: JSON_HEADERS, payload: validPayload },
      [400],
      nulUrl,
    );
    if (r.badIdUrl !== undefined) {
      send(
        'malformed id',
        validPayload === undefined ? {} : { headers: JSON_HEADERS, payload: validPayload },
        [400],
        r.badIdUrl,
      );
    }
    if (r.body === undefined) continue;
    send('malformed JSON', { headers: JSON_HEADERS, payload: '{"unterminated": ' }, [400]);
    send('JSON array instead of object', { headers: JSON_HEADERS, payload: '[1, 2, 3]' }, [400]);
    send('JSON string instead of object', { headers: JSON_HEADERS, payload: '"text"' }, [400]);
    send('JSON number instead of object', { headers: JSON_HEADERS, payload: '42' }, [400]);
    send('prototype poisoning', { headers: JSON_HEADERS, payload: '{"__proto__": {"admin": true}}' }, [400]);
    if (r.requiresFields === true) send('missing fields', { headers: JSON_HEADERS, payload: '{}' }, [400]);
    for (const field of r.typed ?? []) {
      const payload = JSON.stringify({ ...r.body, [field]: wrongType(r.body[field]) });
      send(`wrong type of ${field}`, { headers: JSON_HEADERS, payload }, [400]);
    }
    for (const [field, value] of Object.entries(r.body)) {
      const payload = JSON.stringify({ ...r.body, [field]: withNul(value) });
      send(`NUL in ${field}`, { headers: JSON_HEADERS, payload }, r.acceptsNul === true ? undefined : [400]);
    }
    send(
      'JSON nested 5,000 levels',
      {
        headers: JSON_HEADERS,
        payload: JSON.stringify({ ...r.body, nested: '@deep@' }).replace('"@deep@"', deep(5000)),
      },
      [400],
    );
    for (const bad of r.badBodies ?? []) {
      send(bad.name, { headers: JSON_HEADERS, payload: JSON.stringify(bad.body) }, [
        ...(bad.expect ?? [400]),
      ]);
    }
    // bodies a web page can post cross-site without a preflight are not read
    for (const type of [
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
    ]) {
      send(
        `content type ${type}`,
        { headers: { 'content-type': type }, payload: validPayload ?? '{}' },
        [415],
      );
    }
    const big = JSON.stringify({
      ...r.body,
      padding: 'x'.repeat((r.bodyLimitBytes ?? options.bodyLimitBytes) + 1),
    });
    send('oversized body', { headers: JSON_HEADERS, payload: big }, [413]);
    send('wrong content type', { headers: { 'content-type': 'application/xml' }, payload: '<a/>' }, [415]);
  }
  return out;
}

export interface SweepFailure {
  readonly name: string;
  readonly status: number;
  readonly body: string;
  readonly why: string;
}

/** Why a response breaks the error contract, or undefined when it is a proper 4xx JSON error. */
export function errorShapeProblem(
  res: LightMyRequestResponse,
  expect?: readonly number[],
): string | undefined {
  if (res.statusCode < 400 || res.statusCode >= 500) return 'not a 4xx';
  if (expect !== undefined && !expect.includes(res.statusCode)) return `expected ${expect.join('/')}`;
  if (!String(res.headers['content-type'] ?? '').includes('application/json')) return 'not JSON';
  let body: unknown;
  try {
    body = JSON.parse(res.body);
  } catch {
    return 'body does not parse';
  }
  const b = body as Record<string, unknown>;
  if (typeof b['error'] !== 'string' || b['error'] === '') return 'no error message';
  if (b['status'] !== res.statusCode) return 'status field differs from the HTTP status';
  if (typeof b['code'] !== 'string') return 'no code';
  return undefined;
}

/**
 * Runs the cases; checks each answer and that `/health` still answers after every case.
 * Returns the failures (an empty list is a pass).
 */
export async function runSweep(
  app: FastifyInstance,
  cases: readonly SweepCase[],
  headers: Readonly<Record<string, string>> = {},
): Promise<SweepFailure[]> {
  const failures: SweepFailure[] = [];
  for (const c of cases) {
    const res = await app.inject({ ...c.request, headers: { ...headers, ...c.request.headers } });
    const expectsSuccess = c.expect !== undefined && c.expect.every((s) => s < 400);
    const why = expectsSuccess
      ? c.expect?.includes(res.statusCode) === true
        ? undefined
        : `expected ${c.expect?.join('/') ?? ''}`
      : errorShapeProblem(res, c.expect);
    if (why !== undefined) {
      failures.push({ name: c.name, status: res.statusCode, body: res.body.slice(0, 300), why });
    }
    const health = await app.inject({ method: 'GET', url: '/health' });
    if (health.statusCode !== 200) {
      failures.push({
        name: `${c.name} (health after)`,
        status: health.statusCode,
        body: health.body,
        why: 'server stopped serving',
      });
    }
  }
  return failures;
}

/** `METHOD /path/{param}` of every operation of the OpenAPI document not in `routes`. */
export function uncoveredRoutes(app: FastifyInstance, routes: readonly SweepRoute[]): string[] {
  const openapi = (p: string) => p.replace(/:([A-Za-z0-9_]+)/g, '{$1}').replace(/\*$/, '{*}');
  const covered = new Set(routes.map((r) => `${r.method} ${openapi(r.pattern)}`));
  const doc = app.swagger() as { paths?: Record<string, Record<string, unknown>> };
  const out: string[] = [];
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const method of Object.keys(item)) {
      const key = `${method.toUpperCase()} ${path}`;
      if (!covered.has(key)) out.push(key);
    }
  }
  return out;
}

/** Ids that are well-formed and exist nowhere. */
export const UNKNOWN_ID = '999999999999999999';

/** The routes of the control plane other than orchestration (execute, events, commands, executions). */
export const CONTROL_PLANE_ROUTES: readonly SweepRoute[] = [
  { method: 'GET', pattern: '/health', url: '/health', unknownStatus: 200 },
  { method: 'GET', pattern: '/api/health', url: '/api/health', unknownStatus: 200 },
  { method: 'GET', pattern: '/metrics', url: '/metrics', unknownStatus: 200 },
  { method: 'GET', pattern: '/api/pool/status', url: '/api/pool/status', unknownStatus: 200 },
  { method: 'GET', pattern: '/api/status', url: '/api/status', unknownStatus: 200 },
  { method: 'GET', pattern: '/api/dashboard/stats', url: '/api/dashboard/stats', unknownStatus: 200 },
  { method: 'GET', pattern: '/api/db/validate', url: '/api/db/validate', unknownStatus: 200 },
  { method: 'POST', pattern: '/api/db/init', url: '/api/db/init', unknownStatus: 200 },
  {
    method: 'POST',
    pattern: '/api/postgres/execute',
    url: '/api/postgres/execute',
    unknownStatus: 400,
    body: { query: 'SELECT * FROM no_such_table_anywhere', parameters: [] },
    typed: ['query', 'parameters'],
    requiresFields: true,
    badBodies: [
      {
        name: 'more parameters than placeholders',
        body: { query: 'SELECT $1::int AS a', parameters: [1, 2] },
      },
      { name: 'parameters without placeholders', body: { query: 'SELECT 1 AS a', parameters: [1] } },
      { name: 'fewer parameters than placeholders', body: { query: 'SELECT $2::int AS a', parameters: [1] } },
    ],
  },
  {
    method: 'POST',
    pattern: '/api/catalog/register',
    url: '/api/catalog/register',
    unknownStatus: 400,
    body: { content: 'key: [unclosed' },
    typed: ['content'],
    requiresFields: true,
    badBodies: [
      {
        name: 'YAML nested 5,000 levels',
        body: {
          content: `apiVersion: noetl.io/v2\nkind: Playbook\nmetadata: {name: deep}\nworkload: ${'['.repeat(5000)}${']'.repeat(5000)}\n`,
        },
        // refused by the playbook depth limit (NOETL_PLAYBOOK_MAX_DEPTH) before it is parsed
        expect: [422],
      },
      {
        name: 'YAML with a NUL escape in the workload',
        body: {
          content:
            'apiVersion: noetl.io/v2\nkind: Playbook\nmetadata: {name: nul}\nworkload: {a: "x\\0y"}\nworkflow: [{step: start, tool: {kind: noop}}]\n',
        },
      },
    ],
  },
  {
    method: 'POST',
    pattern: '/api/catalog/list',
    url: '/api/catalog/list',
    unknownStatus: 200,
    body: { resource_type: 'playbook', include_archived: false },
    typed: ['resource_type', 'include_archived'],
  },
  {
    method: 'POST',
    pattern: '/api/catalog/resource',
    url: '/api/catalog/resource',
    body: { catalog_id: UNKNOWN_ID },
    typed: ['catalog_id'],
    requiresFields: true,
  },
  {
    method: 'POST',
    pattern: '/api/catalog/delete',
    url: '/api/catalog/delete',
    body: { path: 'no/such/path' },
    typed: ['path'],
    requiresFields: true,
  },
  {
    method: 'POST',
    pattern: '/api/catalog/restore',
    url: '/api/catalog/restore',
    body: { path: 'no/such/path' },
    typed: ['path'],
    requiresFields: true,
  },
  {
    method: 'GET',
    pattern: '/api/catalog/*',
    url: '/api/catalog/no/such/path/ui_schema',
    badIdUrl: '/api/catalog/no/such/path/ui_schema?version=abc',
  },
  {
    method: 'POST',
    pattern: '/api/credentials',
    url: '/api/credentials',
    unknownStatus: 200,
    body: {
      name: 'sweep_cred',
      type: 'generic',
      data: { password: 'sweep-secret' },
      tags: ['t'],
      description: 'd',
    },
    typed: ['name', 'type', 'data', 'tags', 'description'],
    requiresFields: true,
  },
  { method: 'GET', pattern: '/api/credentials', url: '/api/credentials', unknownStatus: 200 },
  {
    method: 'GET',
    pattern: '/api/credentials/:key',
    url: '/api/credentials/no_such_credential?include_data=true',
    badIdUrl: '/api/credentials/x?include_data=maybe',
  },
  { method: 'DELETE', pattern: '/api/credentials/:key', url: '/api/credentials/no_such_credential' },
  {
    method: 'GET',
    pattern: '/api/keychain/:catalog_id/:keychain_name',
    url: `/api/keychain/${UNKNOWN_ID}/token`,
    badIdUrl: '/api/keychain/not-an-id/token',
  },
  {
    method: 'POST',
    pattern: '/api/keychain/:catalog_id/:keychain_name',
    url: `/api/keychain/${UNKNOWN_ID}/token`,
    unknownStatus: 200,
    badIdUrl: '/api/keychain/not-an-id/token',
    body: { data: { token: 'sweep-token' }, scope_type: 'global', expires_in: 60 },
    typed: ['scope_type', 'expires_in'],
  },
  {
    method: 'DELETE',
    pattern: '/api/keychain/:catalog_id/:keychain_name',
    url: `/api/keychain/${UNKNOWN_ID}/no_such_entry`,
    badIdUrl: '/api/keychain/12/no_such_entry?scope_type=local',
  },
  {
    method: 'GET',
    pattern: '/api/keychain/catalog/:catalog_id',
    url: `/api/keychain/catalog/${UNKNOWN_ID}`,
    unknownStatus: 200,
    badIdUrl: '/api/keychain/catalog/abc',
  },
  {
    method: 'GET',
    pattern: '/api/vars/:execution_id',
    url: `/api/vars/${UNKNOWN_ID}`,
    unknownStatus: 200,
    badIdUrl: '/api/vars/abc',
  },
  {
    method: 'POST',
    pattern: '/api/vars/:execution_id',
    url: `/api/vars/${UNKNOWN_ID}`,
    unknownStatus: 200,
    badIdUrl: '/api/vars/abc',
    body: { variables: [{ var_name: 'v', var_value: 1, var_type: 'user_defined' }] },
    typed: ['variables'],
    requiresFields: true,
  },
  {
    method: 'DELETE',
    pattern: '/api/vars/:execution_id',
    url: `/api/vars/${UNKNOWN_ID}`,
    unknownStatus: 200,
    badIdUrl: '/api/vars/abc',
  },
  {
    method: 'GET',
    pattern: '/api/vars/:execution_id/:var_name',
    url: `/api/vars/${UNKNOWN_ID}/nothing`,
    badIdUrl: '/api/vars/abc/nothing',
  },
  {
    method: 'DELETE',
    pattern: '/api/vars/:execution_id/:var_name',
    url: `/api/vars/${UNKNOWN_ID}/nothing`,
    badIdUrl: '/api/vars/abc/nothing',
  },
  {
    method: 'PUT',
    pattern: '/api/result/:execution_id',
    url: `/api/result/${UNKNOWN_ID}`,
    badIdUrl: '/api/result/abc',
    body: { name: 'report', data: { rows: [1] } },
    typed: ['name'],
    requiresFields: true,
    bodyLimitBytes: RESULT_MAX_BYTES + 64 * 1024,
    badBodies: [{ name: 'a name climbing out', body: { name: '../up', data: 1 } }],
  },
  {
    method: 'GET',
    pattern: '/api/result/resolve',
    url: `/api/result/resolve?ref=${encodeURIComponent(`noetl://execution/${UNKNOWN_ID}/result/x/1`)}`,
  },
  {
    method: 'POST',
    pattern: '/api/worker/pool/register',
    url: '/api/worker/pool/register',
    unknownStatus: 200,
    body: { name: 'sweep-pool', kind: 'worker_pool', capacity: 2 },
    typed: ['name', 'kind', 'capacity'],
    requiresFields: true,
  },
  {
    method: 'POST',
    pattern: '/api/worker/pool/heartbeat',
    url: '/api/worker/pool/heartbeat',
    body: { name: 'no-such-pool' },
    typed: ['name'],
    requiresFields: true,
  },
  {
    method: 'DELETE',
    pattern: '/api/worker/pool/deregister',
    url: '/api/worker/pool/deregister',
    body: { name: 'no-such-pool' },
    typed: ['name'],
    requiresFields: true,
  },
  {
    method: 'GET',
    pattern: '/api/worker/pools',
    url: '/api/worker/pools',
    unknownStatus: 200,
    badIdUrl: '/api/worker/pools?kind=nonsense',
  },
  {
    method: 'GET',
    pattern: '/api/executions/:id/stream',
    url: '/api/executions/999999999999999999/stream',
    badIdUrl: '/api/executions/abc/stream',
  },
  {
    method: 'GET',
    pattern: '/api/events/stream',
    url: '/api/events/stream?execution_id=999999999999999999',
    badIdUrl: '/api/events/stream?execution_id=abc',
  },
  {
    method: 'PATCH',
    pattern: '/api/credentials/:key',
    url: '/api/credentials/no-such-credential',
    body: { type: 'generic', data: { a: 1 } },
    typed: ['type', 'data'],
  },
  {
    method: 'POST',
    pattern: '/api/catalog/graph',
    url: '/api/catalog/graph',
    body: { path: 'no/such/playbook', version: 1 },
    typed: ['path', 'version'],
  },
];
