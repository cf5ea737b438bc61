/**
 * Issue 10: what tools may see and hand on. python and shell steps on a worker or server see an
 * allow-listed environment, locally the user's environment without noetl's own secrets.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePlaybook } from '../../src/dsl/index.js';
import { runLocal } from '../../src/local/index.js';
import { startTestServer, type RunningServer } from '../helpers/embedded-server.js';

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
