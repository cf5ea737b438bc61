/**
 * Issue 10: hostile templates. A template that breaks the engine must not outlive its render
 * (later registrations and runs work, health stays honest), a render has a budget, and one
 * playbook's templates are invisible to another's.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { templates } from '../../src/template/index.js';
import { startTestServer, type RunningServer } from '../helpers/embedded-server.js';

function playbook(name: string, body: string): string {
  return `apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: ${name}, path: tests/template-safety/${name} }
${body}`;
}

const VALID = playbook(
  'valid',
  `workload: { who: world }
workflow:
  - step: start
    tool: { kind: noop, result: { greeting: "{{ 'hello ' ~ workload.who }}" } }
`,
);

let server: RunningServer;

beforeAll(async () => {
  server = await startTestServer();
}, 60_000);

afterAll(async () => {
  await server?.stop();
});

async function runValid(): Promise<Record<string, unknown>> {
  const path = await server.register(VALID);
  const started = await server.post<{ execution_id: string }>('/api/execute', { path });
  expect(started.status).toBe(200);
  const done = await server.waitFor(started.body.execution_id);
  const result = await server.get<Record<string, unknown>>(
    `/api/executions/${started.body.execution_id}/result`,
  );
  expect(JSON.stringify(result.body)).toContain('hello world');
  return done;
}

describe('a template that breaks the engine', () => {
  it('is reported at registration and leaves registration, runs and health working', async () => {
    const hostile = playbook(
      'hostile-register',
      `workflow:
  - step: start
    tool: { kind: noop, result: { n: "{{ ('a' * 3000000000) | length }}" } }
`,
    );
    // registration never blocks on diagnostics (contract 4.1): the template comes back as a warning
    const registered = await server.post<{ warnings: { code: string; message: string }[] }>(
      '/api/catalog/register',
      { content: hostile },
    );
    expect(registered.status).toBe(200);
    expect(registered.body.warnings).toEqual([
      expect.objectContaining({
        code: 'TEMPLATE_SYNTAX',
        message: expect.stringMatching(/exceeded/) as unknown,
      }),
    ]);
    expect((await runValid())['status']).toBe('COMPLETED');
    const health = await server.get<{ components: Record<string, { ok: boolean }> }>('/api/health');
    expect(health.status).toBe(200);
    expect(health.body.components['templates']).toEqual({ ok: true });
  });

  it('fails its own step at run time and nothing after it', async () => {
    const path = await server.register(
      playbook(
        'hostile-run',
        `workload: { n: 3000000000 }
workflow:
  - step: start
    tool: { kind: noop, result: { n: "{{ ('a' * workload.n) | length }}" } }
`,
      ),
    );
    const started = await server.post<{ execution_id: string }>('/api/execute', { path });
    expect((await server.waitFor(started.body.execution_id))['status']).toBe('FAILED');
    expect((await runValid())['status']).toBe('COMPLETED');
    expect((await server.get('/api/health')).status).toBe(200);
  });

  it('health reports a renderer that does not render', async () => {
    const spy = vi.spyOn(templates(), 'render').mockImplementation(() => {
      throw new Error('recursive use of an object detected');
    });
    try {
      const health = await server.get<{ status: string; components: Record<string, unknown> }>('/api/health');
      expect(health.status).toBe(503);
      expect(health.body.components['templates']).toEqual({
        ok: false,
        detail: expect.stringContaining('recursive use of an object') as unknown,
      });
    } finally {
      spy.mockRestore();
    }
    expect((await server.get('/api/health')).status).toBe(200);
  });
});
