/**
 * Issue 10: what tools may see and hand on. python and shell steps on a worker or server see an
 * allow-listed environment, locally the user's environment without noetl's own secrets. Results
 * PostgreSQL cannot store (NUL, lone surrogates) still finish their step, on both stores.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePlaybook } from '../../src/dsl/index.js';
import { runLocal } from '../../src/local/index.js';
import { startTestServer, type RunningServer } from '../helpers/embedded-server.js';
import { createSchema, dropSchema, PG_URL } from '../helpers/pg-scratch.js';

/** noetl's own secrets as an operator's environment holds them. */
const NOETL_SECRETS = {
  NOETL_API_TOKEN: 'tok-api-0123456789',
  NOETL_INTERNAL_API_TOKEN: 'tok-internal-0123456789',
  NOETL_ENCRYPTION_KEY: 'a2V5LWtleS1rZXkta2V5LWtleS1rZXkta2V5LWtleS0=',
  NOETL_DATABASE_URL: 'postgres://noetl:pg-secret-pw@db.internal:5432/noetl',
  POSTGRES_PASSWORD: 'pg-secret-pw',
};

/** The host environment of both modes: the secrets, a host variable, one listed for tools. */
const HOST_ENV = {
  ...process.env,
  ...NOETL_SECRETS,
  HOST_ONLY_VAR: 'host-only',
  TZ: 'Etc/UTC',
  LC_TOOL_TEST: 'lc-kept',
  SHARED_WITH_TOOLS: 'listed',
  NOETL_KEYCHAIN_ENV_VARS: 'SHARED_WITH_TOOLS, NOETL_API_TOKEN',
};

const ENV_PLAYBOOK = `apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: tool-env, path: tests/safety/tool-env }
workflow:
  - step: start
    tool:
      kind: shell
      command: env
      env: { FROM_PLAYBOOK: given }
    next: [ py ]
  - step: py
    tool:
      kind: python
      code: |
        import os
        result = sorted(os.environ)
`;

function shellEnv(stepResult: unknown): Record<string, string> {
  const stdout =
    (stepResult as { stdout?: string; data?: { stdout?: string } }).stdout ??
    (stepResult as { data: { stdout: string } }).data.stdout;
  const out: Record<string, string> = {};
  for (const line of stdout.split('\n')) {
    const at = line.indexOf('=');
    if (at > 0) out[line.slice(0, at)] = line.slice(at + 1);
  }
  return out;
}

function pythonNames(stepResult: unknown): string[] {
  const r = stepResult as string[] | { data: string[] };
  return Array.isArray(r) ? r : r.data;
}

function expectNoSecrets(env: Record<string, string>, names: readonly string[]): void {
  for (const name of Object.keys(NOETL_SECRETS)) {
    expect(env[name], name).toBeUndefined();
    expect(names, name).not.toContain(name);
  }
  const all = Object.values(env).join('\n');
  for (const value of Object.values(NOETL_SECRETS)) expect(all).not.toContain(value);
}

describe('tool environment on a server (in-process workers)', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startTestServer({}, { toolEnv: HOST_ENV });
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('python and shell steps see the allow-list, listed names and the playbook env only', async () => {
    const path = await server.register(ENV_PLAYBOOK);
    const started = await server.post<{ execution_id: string }>('/api/execute', { path });
    expect(started.status).toBe(200);
    const status = await server.waitFor(started.body.execution_id);
    expect(status['status']).toBe('COMPLETED');
    const result = await server.get<{ step_results: Record<string, unknown> }>(
      `/api/executions/${started.body.execution_id}/result`,
    );
    const env = shellEnv(result.body.step_results['start']);
    const names = pythonNames(result.body.step_results['py']);
    expectNoSecrets(env, names);
    // allow-listed names pass (a shell's start-up files may add to PATH)
    expect(env['PATH']).toContain('/usr/bin');
    expect(env['TZ']).toBe('Etc/UTC');
    expect(env['LC_TOOL_TEST']).toBe('lc-kept');
    expect(env['SHARED_WITH_TOOLS']).toBe('listed');
    expect(env['FROM_PLAYBOOK']).toBe('given');
    expect(env['HOST_ONLY_VAR']).toBeUndefined();
    expect(names).toContain('PATH');
    expect(names).not.toContain('HOST_ONLY_VAR');
  }, 60_000);
});

describe('tool environment of `noetl run` (local)', () => {
  it("keeps the user's environment but not noetl's own secrets", async () => {
    const { playbook } = parsePlaybook(ENV_PLAYBOOK);
    const result = await runLocal({ playbook: playbook!, runDir: false, services: { env: HOST_ENV } });
    expect(result.status).toBe('COMPLETED');
    const env = shellEnv(result.step_results['start']);
    const names = pythonNames(result.step_results['py']);
    expectNoSecrets(env, names);
    expect(env['HOST_ONLY_VAR']).toBe('host-only');
    expect(env['FROM_PLAYBOOK']).toBe('given');
    expect(names).toContain('HOST_ONLY_VAR');
  }, 60_000);
});

const UNSTORABLE_PLAYBOOK = `apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: unstorable, path: tests/safety/unstorable }
workflow:
  - step: start
    tool:
      kind: python
      code: |
        result = {"text": "a\\u0000b", "half": "x\\ud800y", "key\\u0000": 1}
    next: [ after ]
  - step: after
    tool:
      kind: python
      input: { seen: "{{ start.text }}" }
      code: |
        result = seen
`;

describe.each([
  ['PGlite', () => Promise.resolve({ env: {}, dispose: () => Promise.resolve() })],
  [
    'PostgreSQL',
    async () => {
      const schema = await createSchema('noetl_safety');
      return {
        env: {
          NOETL_DATABASE_URL: PG_URL,
          NOETL_SCHEMA: schema,
          NOETL_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
        },
        dispose: () => dropSchema(schema),
      };
    },
  ],
] as const)('a result with NUL bytes and lone surrogates on %s', (_name, backend) => {
  let server: RunningServer;
  let dispose: () => Promise<void> = () => Promise.resolve();
  beforeAll(async () => {
    const b = await backend();
    dispose = b.dispose;
    server = await startTestServer(b.env);
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
    await dispose();
  });

  it('finishes the step with U+FFFD in their place, and says so in the event', async () => {
    const path = await server.register(UNSTORABLE_PLAYBOOK);
    const started = await server.post<{ execution_id: string }>('/api/execute', { path });
    expect(started.status).toBe(200);
    const id = started.body.execution_id;
    // Before: the event was refused by the store, the execution stayed RUNNING for ever.
    const status = await server.waitFor(id, 20_000);
    expect(status['status']).toBe('COMPLETED');
    const result = await server.get<{ step_results: Record<string, unknown> }>(
      `/api/executions/${id}/result`,
    );
    const start = result.body.step_results['start'] as Record<string, unknown>;
    const data = (start['data'] ?? start) as Record<string, unknown>;
    expect(data['text']).toBe('a\ufffdb');
    expect(data['half']).toBe('x\ufffdy');
    expect(data['key\ufffd']).toBe(1);
    const after = result.body.step_results['after'] as Record<string, unknown>;
    expect(after['data'] ?? after).toBe('a\ufffdb');
    const events = await server.get<{
      events: { event_type: string; node_name: string; meta?: Record<string, unknown> }[];
    }>(`/api/executions/${id}/events?limit=1000`);
    const done = events.body.events.find((e) => e.event_type === 'call.done' && e.node_name === 'start');
    expect(done?.meta?.['sanitized']).toMatch(/U\+FFFD/);
  }, 60_000);
});
