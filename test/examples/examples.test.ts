/**
 * Every playbook under examples/ runs with `noetl run` as its header comment says, and gives the
 * result it is there to show. Services are local: the machine's PostgreSQL (a scratch database,
 * credential alias pg_example) and an HTTP API this test starts.
 */
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noetl } from '../helpers/cli.js';
import { startFakeApi, type FakeApi } from '../helpers/fake-api.js';
import { createDatabase, dropDatabase, pgTarget } from '../helpers/pg-scratch.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const EXAMPLES = join(ROOT, 'examples');
const home = mkdtempSync(join(tmpdir(), 'noetl-examples-'));
const credentials = join(home, 'credentials.yaml');
let api: FakeApi;
let database: string;

interface Outcome {
  status: string;
  error: unknown;
  step_results: Record<string, unknown>;
}

async function run(file: string, ...args: string[]): Promise<Outcome> {
  const r = await noetl(['run', join(EXAMPLES, file), '--json', '--credentials', credentials, ...args], {
    cwd: home,
    env: { NOETL_HOME: home },
  });
  expect(r.stderr).not.toMatch(/\n\s+at /);
  return JSON.parse(r.stdout) as Outcome;
}

beforeAll(async () => {
  database = await createDatabase('noetl_examples');
  const t = pgTarget(database);
  writeFileSync(
    credentials,
    `- name: pg_example\n  type: postgres\n  data: ${JSON.stringify({
      db_host: t.host,
      db_port: t.port,
      db_user: t.user,
      db_password: '',
      db_name: t.database,
    })}\n`,
  );
  api = await startFakeApi((_req, url) =>
    url.pathname === '/users'
      ? { json: ['Ada', 'Grace', 'Edsger', 'Barbara'].map((name, i) => ({ id: i + 1, name })) }
      : undefined,
  );
}, 60_000);

afterAll(async () => {
  await api?.close();
  if (database) await dropDatabase(database);
  rmSync(home, { recursive: true, force: true });
});

describe('examples/', () => {
  it('has a test below for every example playbook', () => {
    const files: string[] = [];
    const walk = (dir: string): void => {
      for (const name of readdirSync(dir)) {
        const p = join(dir, name);
        if (statSync(p).isDirectory()) walk(p);
        else if (name.endsWith('.yaml')) files.push(relative(EXAMPLES, p));
      }
    };
    walk(EXAMPLES);
    // triggers/ (subscriptions and the playbooks they start) are run by test/server/webhooks and
    // subscription-drain; playbook/child.yaml through its parent; hello.yaml by the README check.
    const tested = new Set([
      'hello.yaml',
      'python/word_stats.yaml',
      'shell/system_facts.yaml',
      'http/fetch_users.yaml',
      'postgres/upsert_and_count.yaml',
      'duckdb/aggregate.yaml',
      'playbook/parent.yaml',
      'playbook/child.yaml',
      'artifact/keep_report.yaml',
    ]);
    expect(files.filter((f) => !f.startsWith('triggers/') && !tested.has(f))).toEqual([]);
  });

  it('python: a sequential loop and a summary of its results', async () => {
    const o = await run('python/word_stats.yaml', '--set', 'words=["noetl","runs","python"]');
    expect(o.status).toBe('COMPLETED');
    expect(o.step_results['summary']).toEqual({ longest: 'python', vowels: 4 });
  });

  it('shell: commands run in turn and their output is the step data', async () => {
    const o = await run('shell/system_facts.yaml');
    expect(o.status).toBe('COMPLETED');
    expect(o.step_results['check']).toEqual({ said_hello: true });
  });

  it('http: a GET against a local API, the body read by python', async () => {
    const o = await run('http/fetch_users.yaml', '--set', `api_url=${api.url}`);
    expect(o.status).toBe('COMPLETED');
    expect(o.step_results['names']).toEqual({ status: 200, names: ['Ada', 'Grace', 'Edsger'] });
    expect(api.requests.at(-1)?.query).toEqual({ limit: '3' });
  });

  it('postgres: an upsert through a credential alias, run twice', async () => {
    await run('postgres/upsert_and_count.yaml');
    const o = await run('postgres/upsert_and_count.yaml');
    expect(o.status).toBe('COMPLETED');
    expect(o.step_results['count']).toMatchObject({ rows: [{ cities: 2, fewest: 2 }] });
  });

  it('duckdb: an aggregate in an in-memory database', async () => {
    const o = await run('duckdb/aggregate.yaml');
    expect(o.status).toBe('COMPLETED');
    expect(o.step_results['start']).toMatchObject({
      rows: [
        { region: 'north', total: 15 },
        { region: 'south', total: 7 },
      ],
    });
  });

  it('playbook: a child run with args, its results returned', async () => {
    const o = await run('playbook/parent.yaml', '--set', 'numbers=[5,6,7]');
    expect(o.status).toBe('COMPLETED');
    expect(o.step_results['start']).toEqual({ sum: 18 });
  });

  it('artifact: a value kept by reference and read back', async () => {
    const o = await run('artifact/keep_report.yaml');
    expect(o.status).toBe('COMPLETED');
    expect(o.step_results['read_back']).toEqual({ title: 'weekly', rows: [1, 2, 3] });
    expect(String((o.step_results['start'] as { uri: string }).uri)).toMatch(/^noetl:\/\//);
  });
});
