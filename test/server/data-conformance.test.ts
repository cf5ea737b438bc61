/**
 * NoETL's upstream data-tool playbooks through the embedded server's HTTP API (present in CI
 * beside the repository; skipped with a note when absent, the project's own playbooks in
 * conformance-playbooks.test.ts cover the same): credentials are registered with
 * POST /api/credentials (encrypted at rest) and resolved by the in-process workers; outcomes
 * match `noetl run` (test/conformance/data-tools.test.ts). The secrets check needs no upstream
 * file and always runs.
 */
import { readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeApi, type FakeApi } from '../helpers/fake-api.js';
import { startTestServer, type RunningServer } from '../helpers/embedded-server.js';
import { skipUpstream, UPSTREAM_DIR } from '../helpers/upstream.js';
import { createDatabase, dropDatabase, pgTarget, urlFor, withPg } from '../helpers/pg-scratch.js';

const CONFORMANCE = UPSTREAM_DIR;
let server: RunningServer;
let api: FakeApi;
let database = '';

beforeAll(async () => {
  database = await createDatabase('noetl_srv_conf');
  await withPg(async (c) => {
    await c.query(`CREATE SCHEMA noetl;
      CREATE TABLE noetl.catalog (catalog_id bigint PRIMARY KEY, path text NOT NULL, version int NOT NULL,
        kind varchar NOT NULL, content text, created_at timestamptz NOT NULL DEFAULT now());
      INSERT INTO noetl.catalog (catalog_id, path, version, kind) VALUES
        (1, 'tests/a', 1, 'Playbook'), (2, 'tests/b', 1, 'Playbook'), (3, 'creds/x', 1, 'Credential')`);
  }, urlFor(database));
  api = await startFakeApi((_req, url) =>
    url.pathname === '/posts'
      ? {
          json: [
            { userId: 1, id: 1, title: "it's a title", body: 'first' },
            { userId: 1, id: 2, title: 'second', body: 'second' },
            { userId: 2, id: 3, title: 'third', body: 'third' },
          ],
        }
      : undefined,
  );
  server = await startTestServer();
  const t = pgTarget(database);
  for (const name of ['pg_local', 'pg_k8s', 'pg_noetl_k8s', 'pg_test']) {
    const r = await server.post('/api/credentials', {
      name,
      type: 'postgres',
      data: {
        db_host: t.host,
        db_port: t.port,
        db_user: t.user,
        db_password: 'unused-pw-1234',
        db_name: t.database,
      },
    });
    expect(r.status).toBe(200);
  }
}, 180_000);

afterAll(async () => {
  await server?.stop();
  await api?.close();
  if (database) await dropDatabase(database);
});

async function viaApi(file: string, payload: Record<string, unknown> = {}) {
  const path = await server.register(readFileSync(join(CONFORMANCE, file), 'utf8'));
  const started = await server.post<{ execution_id: string }>('/api/execute', { path, payload });
  expect(started.status).toBe(200);
  await server.waitFor(started.body.execution_id, 120_000);
  const r = await server.get<{ status: string; step_results: Record<string, unknown>; error: string | null }>(
    `/api/executions/${started.body.execution_id}/result`,
  );
  return { id: started.body.execution_id, ...r.body };
}

describe.skipIf(skipUpstream('test/server/data-conformance.test.ts'))(
  'upstream data-tool conformance through the server',
  () => {
    it('postgres_test reads noetl.catalog with a registered credential', async () => {
      const r = await viaApi('postgres_test.yaml');
      expect(r.error).toBeNull();
      expect(r.step_results['start']).toEqual({
        query_catalog: {
          columns: ['kind', 'count'],
          rows: [
            { kind: 'Playbook', count: 2 },
            { kind: 'Credential', count: 1 },
          ],
          row_count: 2,
        },
      });
    });

    it('postgres_retry_connection and duckdb_test complete', async () => {
      expect((await viaApi('postgres_retry_connection.yaml')).status).toBe('COMPLETED');
      const duck = await viaApi('duckdb_test.yaml');
      expect(duck.status).toBe('COMPLETED');
      expect(duck.step_results['start']).toMatchObject({ run_query: { row_count: 2 } });
    });

    it('playbook_composition runs the child playbook from the catalog for each user', async () => {
      await server.register(readFileSync(join(CONFORMANCE, 'user_profile_scorer.yaml'), 'utf8'));
      const r = await viaApi('playbook_composition.yaml');
      expect(r.error).toBeNull();
      expect(r.status).toBe('COMPLETED');
      const rows = await withPg(
        async (c) =>
          (
            await c.query(
              `SELECT user_name FROM public.user_profile_results WHERE execution_id = $1 ORDER BY user_name`,
              [r.id],
            )
          ).rows as { user_name: string }[],
        urlFor(database),
      );
      expect(rows.map((x) => x.user_name)).toEqual(['Alice', 'Bob', 'Charlie', 'Diana']);
      const children = await server.get<{ parent_execution_id: string | null }[]>(
        '/api/executions?limit=1000',
      );
      expect(children.body.filter((e) => e.parent_execution_id === r.id)).toHaveLength(4);
    });

    it('http_to_postgres_simple loads a local fake API', async () => {
      const r = await viaApi('http_to_postgres_simple.yaml', { api_url: `${api.url}/posts` });
      expect(r.error).toBeNull();
      expect(r.step_results['verify_data']).toEqual({
        columns: ['total_posts', 'unique_users', 'max_post_id'],
        rows: [{ total_posts: 3, unique_users: 2, max_post_id: 3 }],
        row_count: 1,
      });
    });

    it('broken_sql fails with the SQL error', async () => {
      const r = await viaApi('broken_sql.yaml');
      expect(r.status).toBe('FAILED');
      expect(r.error).toContain('syntax error at or near "FROM"');
    });
  },
);

describe('secrets through the server', () => {
  it('a secret used by a step is in no event and nowhere under NOETL_HOME', async () => {
    const secret = 'Very-Secret-Value-9137';
    expect(
      (await server.post('/api/credentials', { name: 'api_cred', type: 'bearer', data: { token: secret } }))
        .status,
    ).toBe(200);
    const yaml = `apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: uses_secret, path: tests/uses_secret }
keychain:
  - name: api
    kind: credential
    credential: api_cred
workflow:
  - step: start
    tool:
      kind: python
      input: { token: "{{ keychain.api.token }}" }
      code: |
        print("the token is", token)
        result = {"echo": token, "length": len(token)}
`;
    const path = await server.register(yaml);
    const started = await server.post<{ execution_id: string }>('/api/execute', { path });
    const status = await server.waitFor(started.body.execution_id);
    expect(status['status']).toBe('COMPLETED');
    const result = await server.get<{ step_results: Record<string, { length: number }> }>(
      `/api/executions/${started.body.execution_id}/result`,
    );
    expect(result.body.step_results['start']?.length).toBe(secret.length); // the tool saw the real value
    const events = await server.get(`/api/executions/${started.body.execution_id}/events?limit=10000`);
    expect(JSON.stringify(events.body)).not.toContain(secret);
    const dump = await server.handle.store.query(
      `SELECT string_agg(t::text, ' ') AS all FROM (SELECT context, result, meta, error FROM noetl.event) t`,
    );
    expect(String(dump.rows[0]?.['all'])).not.toContain(secret);
    await server.handle.store.query('CHECKPOINT');
    const files = (await readdir(server.home, { recursive: true, withFileTypes: true })).filter((e) =>
      e.isFile(),
    );
    expect(files.length).toBeGreaterThan(10);
    for (const f of files) {
      const content = await readFile(join(f.parentPath, f.name));
      expect({ file: f.name, hit: content.includes(Buffer.from(secret)) }).toEqual({
        file: f.name,
        hit: false,
      });
    }
  });
});
