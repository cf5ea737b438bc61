/**
 * The project's own conformance playbooks (test/conformance/playbooks/) through the embedded
 * server's HTTP API: registered in the catalog (children first), executed, and checked against
 * the same expected outcomes as `noetl run` (test/conformance/playbooks.test.ts).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkOutcome,
  conformanceApi,
  loadCases,
  payloadFor,
  pgCredentialData,
  PLAYBOOKS_DIR,
  runLocalCase,
  writeCredentialsFile,
  type Outcome,
} from '../conformance/harness.js';
import { startFakeApi, type FakeApi } from '../helpers/fake-api.js';
import { startTestServer, type RunningServer } from '../helpers/embedded-server.js';
import { createDatabase, dropDatabase } from '../helpers/pg-scratch.js';

let server: RunningServer;
let api: FakeApi;
let database = '';
let credentialsFile = '';
const work = mkdtempSync(join(tmpdir(), 'noetl-own-srv-'));

beforeAll(async () => {
  api = await startFakeApi(conformanceApi());
  database = await createDatabase('noetl_own_srv_conf');
  credentialsFile = writeCredentialsFile(work, database);
  // Workers resolve a relative `script:` file against NOETL_SCRIPT_ROOT from their own
  // environment (python_script.yaml); this file runs in its own process.
  process.env['NOETL_SCRIPT_ROOT'] = PLAYBOOKS_DIR;
  server = await startTestServer();
  const r = await server.post('/api/credentials', {
    name: 'pg_conf',
    type: 'postgres',
    data: pgCredentialData(database),
  });
  expect(r.status).toBe(200);
}, 180_000);

afterAll(async () => {
  await server?.stop();
  await api?.close();
  if (database) await dropDatabase(database);
  rmSync(work, { recursive: true, force: true });
});

export async function runServerCase(
  srv: RunningServer,
  file: string,
  payload: Record<string, unknown>,
  register: readonly string[] = [],
): Promise<Outcome> {
  for (const child of register) await srv.register(readFileSync(join(PLAYBOOKS_DIR, child), 'utf8'));
  const path = await srv.register(readFileSync(file, 'utf8'));
  const started = await srv.post<{ execution_id: string }>('/api/execute', { path, payload });
  expect(started.status).toBe(200);
  const id = started.body.execution_id;
  await srv.waitFor(id, 120_000);
  const result = await srv.get<{
    status: string;
    error: string | null;
    step_results: Record<string, unknown>;
    final_result: unknown;
  }>(`/api/executions/${id}/result`);
  const events = await srv.get<{ events: { event_type: string; node_name: string }[] }>(
    `/api/executions/${id}/events?limit=10000`,
  );
  return { ...result.body, events: events.body.events };
}

function withoutVolatile(value: unknown): unknown {
  // result store references name the execution and the stored value (artifact put)
  if (typeof value === 'string')
    return value.replace(/^(noetl:\/\/execution\/)\d+(\/result\/.+\/)\d+$/, '$1N$2N');
  if (Array.isArray(value)) return value.map(withoutVolatile);
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value)
        .filter(([k]) => k !== 'headers' && k !== 'execution_id')
        .map(([k, v]) => [k, withoutVolatile(v)]),
    );
  return value;
}

describe('own conformance playbooks: embedded server', () => {
  for (const c of loadCases()) {
    if (c.localOnly) console.warn(`[skipped] ${c.name} through the server: ${c.localOnly}`);
    c.runs.forEach((run, i) => {
      const label = `${c.name}${c.runs.length > 1 ? ` #${i + 1}` : ''}: ${c.about}`;
      it.skipIf(c.localOnly !== '')(label, async () => {
        const remote = await runServerCase(server, c.file, payloadFor(run, api.url, work), c.register);
        checkOutcome(label, remote, run);
        if (run.status !== 'COMPLETED') return;
        // The same step results as `noetl run` gives (a fresh local run of the same case), but
        // for what differs between any two runs: http response headers (Date) and the
        // execution ids of child playbooks.
        const local = await runLocalCase(c.file, payloadFor(run, api.url, work), {
          runDir: false,
          credentialsFile,
        });
        expect(withoutVolatile(remote.step_results)).toEqual(withoutVolatile(local.step_results));
      });
    });
  }
});
