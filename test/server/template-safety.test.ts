/**
 * Issue 10: hostile templates. A template that breaks the engine must not outlive its render
 * (later registrations and runs work, health stays honest), a render has a budget, and one
 * playbook's templates are invisible to another's.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
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

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

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
    tool: { kind: noop, result: { n: "{{ ('a' * 3000 * 1000 * 1000) | length }}" } }
`,
    );
    // a playbook with an error is refused at registration (docs/api.md), the template named
    const registered = await server.post<{
      code: string;
      details: { diagnostics: { code: string; message: string }[] };
    }>('/api/catalog/register', { content: hostile });
    expect(registered.status).toBe(422);
    expect(registered.body.code).toBe('PLAYBOOK_INVALID');
    expect(registered.body.details.diagnostics).toEqual([
      expect.objectContaining({
        code: 'TEMPLATE_SYNTAX',
        message: expect.stringMatching(/too large/) as unknown,
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

  it('refuses sizes before building them, and health and runs carry on', async () => {
    // templates whose size comes from the workload (not visible to the scanner)
    const sources = [
      "{{ (range(100000) | join('x' * 1000)) | length }}",
      "{{ ('a' * 1000) | replace('a', 'b' * workload.n) | length }}",
      "{{ ('ab' ~ 'c') * (workload.n * workload.n) }}",
      "{{ 'a\\nb' | indent(workload.n * 1000) | length }}",
      "{{ ('x' * 1000).join(range(workload.n)) | length }}",
      '{{ (workload.list * (workload.n * workload.n)) | length }}',
      '{{ ([1, 2] * (workload.n * 100)) | list | length }}',
    ];
    for (const [i, source] of sources.entries()) {
      const path = await server.register(
        playbook(
          `hostile-size-${i}`,
          `workload: { n: 100000, list: [1] }
workflow:
  - step: start
    tool: { kind: noop, result: { v: ${JSON.stringify(source)} } }
`,
        ),
      );
      const started = await server.post<{ execution_id: string }>('/api/execute', { path });
      const done = await server.waitFor(started.body.execution_id);
      expect(done['status'], source).toBe('FAILED');
      // refused by a size check, not by the engine running out of memory
      expect(String(done['error']), source).toMatch(/at most|more than/);
      const t0 = performance.now();
      const health = await server.get('/api/health');
      expect(health.status, source).toBe(200);
      expect(performance.now() - t0, source).toBeLessThan(1000);
    }
    expect((await runValid())['status']).toBe('COMPLETED');
  }, 120_000);

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

/** The hostile set: each renders through the template API of a child process. */
const HOSTILE = [
  "{{ ('a' * 3000 * 1000 * 1000) | length }}",
  "{{ ('a' * n) | length }}",
  "{{ ('a' * 200000000) | length }}",
  "{{ ('a' * 1000 * 1000 * 200) | length }}",
  '{{ [1] * n }}',
  '{{ range(n) | length }}',
  '{% for i in range(100000) %}{% for j in range(100000) %}{{ j }}{% endfor %}{% endfor %}',
  "{{ 'x' | center(n) | length }}",
  "{{ ('x' * 10000) | replace('x', 'y' * 10000) | length }}",
  '{{ 10 ** 100000 }}',
  "{{ (range(100000) | join('x' * 1000)) | length }}",
  "{{ ('a' * 1000) | replace('a', 'b' * n) | length }}",
  "{{ ('ab' ~ 'c') * n }}",
  "{{ 'a\\nb' | indent(n) | length }}",
  "{{ ('x' * 1000).join(range(100000)) | length }}",
  '{{ ([1] * n) | length }}',
  '{{ (list * n) | length }}',
  "{% set ns = namespace(s='ab') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s | length }}",
  '{{ range(100000) | tojson(indent=1000) | length }}',
  '{{ range(100000) | pprint | length }}',
];

const CHILD = `
import { rendererHealth, templates } from './dist/template/index.js';
const rss = () => process.memoryUsage().rss;
const idle = () => new Promise((done) => setTimeout(done, 50));
const r = templates();
for (let i = 0; i < 20; i++) r.renderValue({ a: '{{ x + i }}', b: "{{ s | upper }}" }, { x: 1, i, s: 'warm' });
await idle();
globalThis.gc();
const baseline = rss();
const out = [];
for (const source of JSON.parse(process.argv[1])) {
  let code = 'ok';
  try { r.render(source, { n: 300000000, list: [1] }); } catch (err) { code = err.code ?? String(err); }
  const start = performance.now();
  await idle();
  const health = rendererHealth();
  const healthMs = performance.now() - start;
  // memory comes back once the engine was replaced and collected: allow it a couple of seconds
  let over = Infinity;
  for (let t = 0; t < 40 && over >= 50; t++) {
    globalThis.gc();
    over = (rss() - baseline) / 1e6;
    if (over >= 50) await idle();
  }
  out.push({ source, code, healthOk: health.ok, healthMs, rssOverMb: over });
}
console.log(JSON.stringify(out));
`;

describe('hostile templates in a process of their own', () => {
  it('each fails alone, health answers within 1 s and memory returns within 50 MB', () => {
    const run = spawnSync(
      process.execPath,
      ['--expose-gc', '--input-type=module', '-e', CHILD, JSON.stringify(HOSTILE)],
      {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 120_000,
      },
    );
    expect(run.stderr).toBe('');
    const results = JSON.parse(run.stdout) as {
      source: string;
      code: string;
      healthOk: boolean;
      healthMs: number;
      rssOverMb: number;
    }[];
    expect(results).toHaveLength(HOSTILE.length);
    for (const r of results) {
      expect(r, r.source).toMatchObject({ healthOk: true });
      expect(r.healthMs, r.source).toBeLessThan(1000);
      expect(r.rssOverMb, r.source).toBeLessThan(50);
    }
    // most are refused; the rest (a 100 MB replace) are built within the engine's memory cap
    for (const r of results) expect(['ok', 'TEMPLATE_RENDER'], r.source).toContain(r.code);
    expect(results.filter((r) => r.code === 'ok').length).toBeLessThanOrEqual(1);
  }, 150_000);
});
