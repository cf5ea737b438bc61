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
      expect(first['unchanged']).toBe(false);
      // the same content again (base64 this time) is the latest version, not a new one
      const same = json(
        await post(get, '/api/catalog/register', { content: Buffer.from(PLAYBOOK).toString('base64') }),
      );
      expect(same).toMatchObject({
        status: 'success',
        version: 1,
        catalog_id: first['catalog_id'],
        unchanged: true,
        message: "Resource 'tests/server/hello' version '1' is unchanged.",
      });
      const changed = `${PLAYBOOK}# second version\n`;
      const b64 = Buffer.from(changed).toString('base64');
      const second = json(await post(get, '/api/catalog/register', { content: b64 }));
      expect(second).toMatchObject({ version: 2, path: 'tests/server/hello', unchanged: false });
      const entry = json(await post(get, '/api/catalog/resource', { catalog_id: second['catalog_id'] }));
      expect(entry).toMatchObject({
        catalog_id: second['catalog_id'],
        version: 2,
        kind: 'playbook',
        content: changed,
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

    it('refuses a playbook with errors (422, every diagnostic) and stores nothing', async () => {
      // NoETL's fixture should_error_tool_is_required: `command` outside the tool, `end` without a tool
      const text = `apiVersion: noetl.io/v2
kind: Playbook
metadata: {name: broken_pb, path: tests/server/broken_pb}
workflow:
  - step: start
    tool: {kind: python, code: "result = 1"}
    next: [insert_report]
  - step: insert_report
    tool:
      kind: postgres
      auth: pg
    command: SELECT 1
    next: [end]
  - step: end
    desc: no tool
`;
      const body = expectError(
        await post(get, '/api/catalog/register', { content: text }),
        422,
        'PLAYBOOK_INVALID',
      );
      expect(body['error']).toMatch(
        /^playbook 'tests\/server\/broken_pb' is not valid: line 14, column 5: MISSING_FIELD step 'end' has no `tool`/,
      );
      expect(body['details']).toEqual({
        diagnostics: [
          {
            code: 'UNKNOWN_KEY',
            severity: 'warning',
            message: expect.stringContaining("unknown key 'command' in step 'insert_report'") as string,
            path: 'workflow[1].command',
            line: 12,
            column: 5,
          },
          {
            code: 'MISSING_FIELD',
            severity: 'error',
            message: expect.stringContaining("step 'end' has no `tool`") as string,
            path: 'workflow[2].step',
            line: 14,
            column: 5,
          },
        ],
      });
      expectError(await post(get, '/api/catalog/resource', { path: 'tests/server/broken_pb' }), 404);

      // a valid version first: a broken one never replaces it as the latest
      const good = text.replace('    desc: no tool\n', '    tool: {kind: noop}\n');
      const v1 = json(await post(get, '/api/catalog/register', { content: good }));
      expect(v1).toMatchObject({ version: 1, unchanged: false });
      expectError(await post(get, '/api/catalog/register', { content: text }), 422, 'PLAYBOOK_INVALID');
      const latest = json(await post(get, '/api/catalog/resource', { path: 'tests/server/broken_pb' }));
      expect(latest).toMatchObject({ version: 1, content: good });
    });

    it('returns warnings with the registration; strict (body or query) refuses them', async () => {
      const text = `apiVersion: noetl.io/v2
kind: Playbook
metadata: {name: warned_pb, path: tests/server/warned_pb}
workflow:
  - step: start
    tool: {kind: noop}
    nxet: end
  - step: end
    tool: {kind: noop}
`;
      const res = json<{ warnings: Record<string, unknown>[]; version: number }>(
        await post(get, '/api/catalog/register', { content: text }),
      );
      expect(res.version).toBe(1);
      expect(res.warnings).toEqual([
        expect.objectContaining({ code: 'UNKNOWN_KEY', severity: 'warning', line: 7, column: 5 }),
        expect.objectContaining({ code: 'UNREACHABLE_STEP', severity: 'warning' }),
      ]);
      expect(String(res.warnings[0]!['message'])).toContain("did you mean 'next'?");
      const changed = `${text}# v2\n`;
      const strict = expectError(
        await post(get, '/api/catalog/register', { content: changed, strict: true }),
        422,
        'PLAYBOOK_INVALID',
      );
      expect(strict['details']).toMatchObject({
        diagnostics: [
          { code: 'UNKNOWN_KEY', severity: 'error' },
          { code: 'UNREACHABLE_STEP', severity: 'error' },
        ],
      });
      expectError(
        await post(get, '/api/catalog/register?strict=true', { content: changed }),
        422,
        'PLAYBOOK_INVALID',
      );
      const latest = json(await post(get, '/api/catalog/resource', { path: 'tests/server/warned_pb' }));
      expect(latest['version']).toBe(1);
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
