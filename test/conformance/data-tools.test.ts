/**
 * Conformance: NoETL's upstream data-tool playbooks (present in CI beside the repository,
 * skipped with a note when absent; the project's own playbooks cover the same), run locally
 * against the machine's PostgreSQL. The credential aliases they use (pg_local, pg_k8s,
 * pg_noetl_k8s, pg_test) point, through a credentials file, at a database created for this file
 * (the fixtures hard-code `public.` and `noetl.` names), dropped at the end.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPlaybookFile, runLocal, type LocalRunResult } from '../../src/local/index.js';
import { closeToolResources } from '../../src/tools/index.js';
import { noetl } from '../helpers/cli.js';
import { startFakeApi, type FakeApi } from '../helpers/fake-api.js';
import { skipUpstream, UPSTREAM_DIR } from '../helpers/upstream.js';
import { createDatabase, dropDatabase, pgTarget, urlFor, withPg } from '../helpers/pg-scratch.js';

const CONFORMANCE_DIR = UPSTREAM_DIR;
const work = mkdtempSync(join(tmpdir(), 'noetl-data-conf-'));
const runDir = join(work, 'runs');
const credentialsFile = join(work, 'credentials.yaml');
const PG_PASSWORD = 'Pg-Secret-Password-7f3a';
let database = '';
let api: FakeApi;

const posts = [
  { userId: 1, id: 1, title: "it's a title", body: 'first body' },
  { userId: 1, id: 2, title: 'second', body: 'second body' },
  { userId: 2, id: 3, title: 'third', body: 'third body' },
  { userId: 2, id: 4, title: 'fourth', body: 'fourth body' },
];

async function run(file: string, payload: Record<string, unknown> = {}): Promise<LocalRunResult> {
  const path = join(CONFORMANCE_DIR, file);
  const { playbook } = await loadPlaybookFile(path);
  return runLocal({
    playbook,
    file: path,
    payload,
    runDir,
    credentialsFile,
    services: { env: { ...process.env, NOETL_HOME: work } },
  });
}

const query = <T>(text: string): Promise<T[]> =>
  withPg(async (c) => (await c.query(text)).rows as T[], urlFor(database));

beforeAll(async () => {
  database = await createDatabase('noetl_conf');
  // The NoETL catalog table postgres_test reads (its columns as in migrations/: kind per entry).
  await withPg(async (c) => {
    await c.query(`CREATE SCHEMA noetl;
      CREATE TABLE noetl.catalog (catalog_id bigint PRIMARY KEY, path text NOT NULL, version int NOT NULL,
        kind varchar NOT NULL, content text, created_at timestamptz NOT NULL DEFAULT now());
      INSERT INTO noetl.catalog (catalog_id, path, version, kind) VALUES
        (1, 'tests/a', 1, 'Playbook'), (2, 'tests/b', 1, 'Playbook'), (3, 'creds/x', 1, 'Credential')`);
  }, urlFor(database));
  const t = pgTarget(database);
  const data = {
    db_host: t.host,
    db_port: t.port,
    db_user: t.user,
    db_password: PG_PASSWORD,
    db_name: t.database,
  };
  writeFileSync(
    credentialsFile,
    ['pg_local', 'pg_k8s', 'pg_noetl_k8s', 'pg_test']
      .map((name) => `- name: ${name}\n  type: postgres\n  data: ${JSON.stringify(data)}\n`)
      .join(''),
  );
  api = await startFakeApi((_req, url) => (url.pathname === '/posts' ? { json: posts } : undefined));
});

afterAll(async () => {
  await api.close();
  await closeToolResources();
  await dropDatabase(database);
  rmSync(work, { recursive: true, force: true });
});

describe.skipIf(skipUpstream('test/conformance/data-tools.test.ts'))(
  'upstream conformance: data tools (local, real PostgreSQL)',
  () => {
    it('postgres_test queries noetl.catalog through pg_noetl_k8s', async () => {
      const result = await run('postgres_test.yaml');
      expect(result.error).toBeNull();
      expect(result.status).toBe('COMPLETED');
      expect(result.step_results['start']).toEqual({
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

    it('postgres_retry_connection completes', async () => {
      const result = await run('postgres_retry_connection.yaml');
      expect(result.status).toBe('COMPLETED');
      expect(result.step_results['start']).toEqual({
        columns: ['test_value'],
        rows: [{ test_value: 1 }],
        row_count: 1,
      });
    });

    it('duckdb_test completes with the rows of the last statement', async () => {
      const result = await run('duckdb_test.yaml');
      expect(result.status).toBe('COMPLETED');
      expect(result.step_results['start']).toMatchObject({
        run_query: {
          rows: [
            { name: 'Alice', age: 30 },
            { name: 'Charlie', age: 35 },
          ],
          row_count: 2,
        },
      });
    });

    it('playbook_composition runs user_profile_scorer per user and stores each result', async () => {
      const result = await run('playbook_composition.yaml');
      expect(result.error).toBeNull();
      expect(result.status).toBe('COMPLETED');
      const rows = await query<{ user_name: string }>(
        `SELECT user_name FROM public.user_profile_results WHERE execution_id = '${result.execution_id}' ORDER BY user_name`,
      );
      expect(rows.map((r) => r.user_name)).toEqual(['Alice', 'Bob', 'Charlie', 'Diana']);
    });

    it('http_to_postgres_simple loads posts from a local fake API', async () => {
      const result = await run('http_to_postgres_simple.yaml', { api_url: `${api.url}/posts` });
      expect(result.error).toBeNull();
      expect(result.status).toBe('COMPLETED');
      expect(result.step_results['verify_data']).toEqual({
        columns: ['total_posts', 'unique_users', 'max_post_id'],
        rows: [{ total_posts: 3, unique_users: 2, max_post_id: 3 }],
        row_count: 1,
      });
      expect(await query('SELECT title FROM public.http_to_postgres_simple WHERE id = 1')).toEqual([
        { title: "it's a title" },
      ]);
    });

    it('broken_sql fails with the SQL error', async () => {
      const result = await run('broken_sql.yaml');
      expect(result.status).toBe('FAILED');
      expect(result.error).toContain('syntax error at or near "FROM"');
      expect(result.error).toContain('SQLSTATE 42601');
    });

    it('keychain.yaml completes (no step reads its oauth2 entry, so it is never resolved)', async () => {
      const result = await run('keychain.yaml');
      expect(result.status).toBe('COMPLETED');
    });

    it("keychain.yaml's bearer and static entries resolve when read; its oauth2 entry fails clearly", async () => {
      const fixture = readFileSync(join(CONFORMANCE_DIR, 'keychain.yaml'), 'utf8');
      const keychain = fixture.slice(fixture.indexOf('keychain:'), fixture.indexOf('workflow:'));
      const file = join(work, 'keychain-read.yaml');
      const playbook = (read: string): string => `apiVersion: noetl.io/v2
kind: Playbook
metadata: {name: keychain_read, path: tests/keychain_read}
workload:
  openai_key: sk-from-workload
  amadeus_client_id: cid-1
  amadeus_client_secret: csecret-1
${keychain}
workflow:
  - step: start
    tool:
      kind: noop
      result: ${read}
`;
      writeFileSync(
        file,
        playbook(
          '{auth: "Bearer {{ keychain.openai_token.token }}", id: "{{ keychain.amadeus_credentials.client_id }}"}',
        ),
      );
      const { playbook: ok } = await loadPlaybookFile(file);
      const read = await runLocal({ playbook: ok, file, runDir });
      expect(read.status).toBe('COMPLETED');
      expect(read.step_results['start']).toEqual({ auth: 'Bearer sk-from-workload', id: 'cid-1' });
      writeFileSync(file, playbook('"{{ keychain.amadeus_token.access_token }}"'));
      const { playbook: oauth } = await loadPlaybookFile(file);
      const failed = await runLocal({ playbook: oauth, file, runDir });
      expect(failed.status).toBe('FAILED');
      expect(failed.error).toContain("keychain 'amadeus_token': kind 'oauth2' is not supported");
    });

    it('an unknown alias fails the step, naming it and where it looked', async () => {
      const result = await run('postgres_retry_connection.yaml', { pg_auth: 'pg_missing' });
      expect(result.status).toBe('FAILED');
      expect(result.error).toContain("credential 'pg_missing' not found; looked in: --credentials");
      expect(result.error).toContain('env NOETL_CREDENTIAL_PG_MISSING (not set)');
    });
  },
);

describe('secrets stay out of logs and output (built CLI)', () => {
  const STATIC_SECRET = 'Static-Keychain-Value-9c1e';
  const playbook = (fail: boolean): string => `apiVersion: noetl.io/v2
kind: Playbook
metadata: {name: secret_probe, path: tests/secret_probe}
keychain:
  - name: api
    kind: static
    map: {client_secret: "${STATIC_SECRET}"}
  - name: db
    kind: credential
    credential: pg_local
workflow:
  - step: start
    tool: {kind: postgres, auth: pg_local, query: "SELECT 1 AS n"}
    next: {arcs: [{step: echo}]}
  - step: echo
    tool:
      kind: python
      input:
        static: "{{ keychain.api.client_secret }}"
        dbpw: "{{ keychain.db.db_password }}"
      code: |
        print("secrets:", static, dbpw)
        ${fail ? 'raise ValueError("leaking " + static + " and " + dbpw)' : 'result = {"echo": static, "token": dbpw, "n_chars": len(dbpw)}'}
    next: {arcs: [{step: end}]}
  - step: end
    tool: {kind: noop}
`;

  it.each([false, true])(
    'keeps the credential password and a keychain value out (failing step: %s)',
    async (fail) => {
      const dir = mkdtempSync(join(work, 'cli-'));
      writeFileSync(join(dir, 'probe.yaml'), playbook(fail));
      const args = ['run', 'probe.yaml', '--credentials', credentialsFile, '-v'];
      const out = await noetl(fail ? args : [...args, '--json'], { cwd: dir, env: { NOETL_HOME: dir } });
      expect(out.code).toBe(fail ? 1 : 0);
      const logs = readdirSync(join(dir, '.noetl', 'runs')).map((f) =>
        readFileSync(join(dir, '.noetl', 'runs', f), 'utf8'),
      );
      expect(logs).toHaveLength(1);
      const log = logs.join('\n');
      for (const text of [log, out.stdout, out.stderr]) {
        expect(text).not.toContain(PG_PASSWORD);
        expect(text).not.toContain(STATIC_SECRET);
      }
      // The tools saw the real values: python printed and returned them (redacted in the copies).
      expect(log).toContain('secrets: *** ***');
      if (fail) {
        expect(out.stderr).toContain('leaking *** and ***');
      } else {
        const json = JSON.parse(out.stdout) as { status: string; step_results: Record<string, unknown> };
        expect(json.status).toBe('COMPLETED');
        expect(json.step_results['echo']).toEqual({ echo: '***', token: '***', n_chars: PG_PASSWORD.length });
      }
    },
  );
});
