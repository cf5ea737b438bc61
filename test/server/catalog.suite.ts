import { describe, expect, it } from 'vitest';
import { startExecution } from '../contract/store-fixtures.js';
import { startTestServer } from '../helpers/server-app.js';
import { expectError, json, type GetFixture } from './api.suite.js';

const PLAYBOOK = `apiVersion: noetl.io/v2
kind: Playbook
metadata:
  name: hello
  path: tests/server/hello
  labels: {team: core}
workload:
  greeting: hi # ui:description=What to say
  count: 3
  region: eu # ui:enum=[eu, us]
  db: {host: localhost, port: 5432}
  api_key: "" # ui:secret
workflow:
  - step: start
    tool: {kind: python, code: "def main(): return 1"}
    next:
      - step: end
  - step: end
    tool: {kind: noop}
`;

const post = (get: GetFixture, url: string, payload: unknown, headers: Record<string, string> = {}) =>
  get().server.app.inject({ method: 'POST', url, payload: payload as object, headers });

export function catalogTests(get: GetFixture): void {
  describe('catalog routes', () => {
    it('registers versions, plain and base64, with ids as strings', async () => {
      const first = json(
        await post(get, '/api/catalog/register', { content: PLAYBOOK, resource_type: 'Playbook' }),
      );
      expect(first).toMatchObject({
        status: 'success',
        path: 'tests/server/hello',
        version: 1,
        kind: 'playbook',
        message: "Resource 'tests/server/hello' version '1' registered.",
      });
      expect(first['catalog_id']).toMatch(/^\d+$/);
      expect(first['warnings']).toEqual([]);
      const b64 = Buffer.from(PLAYBOOK).toString('base64');
      const second = json(await post(get, '/api/catalog/register', { content: b64 }));
      expect(second).toMatchObject({ version: 2, path: 'tests/server/hello' });
      const entry = json(await post(get, '/api/catalog/resource', { catalog_id: second['catalog_id'] }));
      expect(entry).toMatchObject({
        catalog_id: second['catalog_id'],
        version: 2,
        kind: 'playbook',
        content: PLAYBOOK,
        meta: { team: 'core' },
        archived: false,
      });
      expect(entry['payload']).toMatchObject({ greeting: 'hi', count: 3 });
      expect(Array.isArray(entry['layout'])).toBe(true);
      // a catalog_id sent as a JSON number above 2^53 keeps every digit
      const raw = await get().server.app.inject({
        method: 'POST',
        url: '/api/catalog/resource',
        headers: { 'content-type': 'application/json' },
        payload: `{"catalog_id": ${String(second['catalog_id'])}}`,
      });
      expect(json(raw)['catalog_id']).toBe(second['catalog_id']);
    });

    it('refuses a playbook over a size limit with 422 PLAYBOOK_TOO_LARGE and stores nothing', async () => {
      const chain = (n: number, name: string): string => {
        const lines = [
          'apiVersion: noetl.io/v2',
          'kind: Playbook',
          `metadata: { name: ${name} }`,
          'workflow:',
        ];
        for (let i = 0; i < n; i++) {
          lines.push(`  - step: ${i === 0 ? 'start' : `s${i}`}`, '    tool: { kind: noop }');
          if (i < n - 1) lines.push(`    next: [ s${i + 1} ]`);
        }
        return lines.join('\n');
      };
      // Default limit 50,000 steps: step 50,001 starts on line 5 + 3 * 50,000.
      const body = expectError(
        await post(get, '/api/catalog/register', { content: chain(60_000, 'tests/server/too_big') }),
        422,
        'PLAYBOOK_TOO_LARGE',
      );
      expect(body['error']).toMatch(/60,000 steps; the limit is 50,000 .*line 150005, column 5/);
      expect(body['details']).toMatchObject({
        diagnostics: [{ code: 'PLAYBOOK_TOO_LARGE', line: 150_005, column: 5 }],
      });
      expectError(await post(get, '/api/catalog/resource', { path: 'tests/server/too_big' }), 404);

      const server = await startTestServer(get().backend, {
        env: { NOETL_PLAYBOOK_MAX_STEPS: '2', NOETL_PLAYBOOK_MAX_DEPTH: '6' },
      });
      try {
        const register = (content: string) =>
          server.app.inject({ method: 'POST', url: '/api/catalog/register', payload: { content } });
        expectError(await register(chain(3, 'tests/server/three')), 422, 'PLAYBOOK_TOO_LARGE');
        const deep = `${chain(2, 'tests/server/deep')}\nworkload: { a: [[[[[1]]]]] }\n`;
        expectError(await register(deep), 422, 'PLAYBOOK_TOO_LARGE');
        expect(json(await register(chain(2, 'tests/server/two')))).toMatchObject({
          version: 1,
          warnings: [],
        });
      } finally {
        await server.close();
      }
    });

    it('reports playbook problems as warnings without refusing the registration', async () => {
      const text = 'apiVersion: noetl.io/v2\nkind: Playbook\nmetadata: {name: broken_pb}\n';
      const res = json<{ warnings: { code: string; severity: string }[]; path: string }>(
        await post(get, '/api/catalog/register', { content: text }),
      );
      expect(res.path).toBe('broken_pb');
      expect(res.warnings.map((w) => w.code)).toContain('MISSING_FIELD');
      const agent = json(
        await post(get, '/api/catalog/register', { content: 'kind: Agent\nmetadata: {name: a1}\n' }),
      );
      expect(agent).toMatchObject({ kind: 'agent', warnings: [] });
    });

    it('refuses YAML that does not parse (400) and resources without metadata.name (422)', async () => {
      const bad = expectError(
        await post(get, '/api/catalog/register', { content: 'a: [1, 2\nb: {' }),
        400,
        'YAML_SYNTAX',
      );
      expect(String(bad['error'])).toMatch(/YAML/);
      expect(bad['details']).toEqual({ line: expect.any(Number), column: expect.any(Number) });
      expectError(
        await post(get, '/api/catalog/register', { content: '- just\n- a list\n' }),
        422,
        'PLAYBOOK_INVALID',
      );
      expectError(
        await post(get, '/api/catalog/register', { content: 'kind: Playbook\nmetadata: {}\n' }),
        422,
      );
      expectError(
        await post(get, '/api/catalog/register', { content: 'kind: "Bad Kind!"\nmetadata: {name: x}\n' }),
        422,
      );
    });

    it('lists newest first, filters kinds case-insensitively, and finds by path and version', async () => {
      const all = json<{ entries: { path: string; version: number; kind: string }[] }>(
        await get().server.app.inject({ method: 'POST', url: '/api/catalog/list' }),
      );
      expect(all.entries.length).toBeGreaterThanOrEqual(3);
      const hello = all.entries.filter((e) => e.path === 'tests/server/hello').map((e) => e.version);
      expect(hello).toEqual([2, 1]);
      const playbooks = json<{ entries: { kind: string }[] }>(
        await post(get, '/api/catalog/list', { resource_type: 'Playbook' }),
      );
      expect(new Set(playbooks.entries.map((e) => e.kind))).toEqual(new Set(['playbook']));
      expect(json(await post(get, '/api/catalog/resource', { path: 'tests/server/hello' }))['version']).toBe(
        2,
      );
      expect(
        json(await post(get, '/api/catalog/resource', { path: 'tests/server/hello', version: '1' }))[
          'version'
        ],
      ).toBe(1);
      expect(
        json(await post(get, '/api/catalog/resource', { path: 'tests/server/hello', version: 'latest' }))[
          'version'
        ],
      ).toBe(2);
      expectError(
        await post(get, '/api/catalog/resource', { path: 'tests/server/hello', version: 9 }),
        404,
        'NOT_FOUND',
      );
      expectError(await post(get, '/api/catalog/resource', {}), 400, 'BAD_REQUEST');
    });

    it('infers the run form from the workload', async () => {
      const res = await get().server.app.inject({
        method: 'GET',
        url: '/api/catalog/tests/server/hello/ui_schema?version=1',
      });
      const body = json<{ fields: { name: string; kind: string }[] } & Record<string, unknown>>(res);
      expect(body).toMatchObject({
        path: 'tests/server/hello',
        version: 1,
        kind: 'playbook',
        title: 'hello',
        exposed_in_ui: false,
      });
      expect(body.fields).toEqual([
        expect.objectContaining({
          name: 'greeting',
          kind: 'string',
          default: 'hi',
          description: 'What to say',
        }),
        expect.objectContaining({ name: 'count', kind: 'integer', default: 3 }),
        expect.objectContaining({ name: 'region', kind: 'enum', options: ['eu', 'us'] }),
        expect.objectContaining({
          name: 'db',
          kind: 'object',
          children: [
            expect.objectContaining({ name: 'host' }),
            expect.objectContaining({ name: 'port', kind: 'integer' }),
          ],
        }),
        expect.objectContaining({ name: 'api_key', secret: true }),
      ]);
      expectError(
        await get().server.app.inject({ method: 'GET', url: '/api/catalog/none/such/ui_schema' }),
        404,
      );
      expectError(
        await get().server.app.inject({ method: 'GET', url: '/api/catalog/tests/server/hello' }),
        404,
      );
    });

    it('guards delete and restore with the internal token, archiving versions with executions', async () => {
      expectError(await post(get, '/api/catalog/delete', { path: 'tests/server/hello' }), 503, 'UNAVAILABLE');
      const server = await startTestServer(get().backend, {
        env: { NOETL_INTERNAL_API_TOKEN: 'int-secret' },
      });
      const auth = { authorization: 'Bearer int-secret' };
      try {
        const call = (url: string, payload: unknown, headers: Record<string, string> = auth) =>
          server.app.inject({ method: 'POST', url, payload: payload as object, headers });
        expectError(
          await call('/api/catalog/delete', { path: 'tests/server/hello' }, {}),
          401,
          'UNAUTHORIZED',
        );
        expectError(
          await call('/api/catalog/delete', { path: 'tests/server/hello' }, { authorization: 'Bearer x' }),
          403,
          'FORBIDDEN',
        );
        const v1 = json(await call('/api/catalog/resource', { path: 'tests/server/hello', version: 1 }));
        await startExecution(get().backend.store, {
          catalogId: String(v1['catalog_id']),
          path: 'tests/server/hello',
        });
        const deleted = json<{ deleted: { version: number; archived: boolean }[]; count: number }>(
          await call('/api/catalog/delete', { path: 'tests/server/hello' }),
        );
        expect(deleted.count).toBe(2);
        expect(deleted.deleted.find((d) => d.version === 1)?.archived).toBe(true);
        expect(deleted.deleted.find((d) => d.version === 2)?.archived).toBe(false);
        expectError(await call('/api/catalog/resource', { path: 'tests/server/hello' }), 404);
        const restored = json(await call('/api/catalog/restore', { path: 'tests/server/hello' }));
        expect(restored).toMatchObject({ count: 1, restored: [{ version: 1 }] });
        expect(json(await call('/api/catalog/resource', { path: 'tests/server/hello' }))['version']).toBe(1);
        expectError(await call('/api/catalog/restore', { path: 'tests/server/hello' }), 404);
        expectError(await call('/api/catalog/delete', { path: 'no/such/thing' }), 404);
      } finally {
        await server.close();
      }
    });
  });
}
