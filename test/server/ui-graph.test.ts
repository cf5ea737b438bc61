/**
 * `POST /api/catalog/graph` (issue 13): diagnostics at their line and column, and the graph the
 * engine reads (entry, steps with kind, loops, fan-in, arcs with their `when`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgliteBackend, startTestServer, type TestBackend, type TestServer } from '../helpers/server-app.js';

const FLOW = `apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: flow, path: tests/graph/flow }
workload: { items: [1, 2, 3] }
workflow:
  - step: start
    desc: fetch things
    tool: { kind: http, url: "http://127.0.0.1:1/x" }
    next:
      spec: { mode: inclusive }
      arcs:
        - { step: left, when: "{{ start.status == 'ok' }}" }
        - step: right
  - step: left
    loop:
      in: "{{ workload.items }}"
      iterator: item
      spec: { mode: parallel, max_in_flight: 2 }
    tool: { kind: python, code: "result = {'n': input_data}" }
    next: [ join ]
  - step: right
    tool:
      - fetch: { kind: shell, command: "echo a" }
      - load: { kind: shell, command: "echo b" }
    next: [ join ]
  - step: join
    tool: { kind: noop }
    next: [ end ]
  - step: end
    tool: { kind: shell, command: "echo done" }
`;

const BROKEN = `apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: broken }
workflow:
  - step: start
    tool: { kind: shell, command: "echo" }
    next: [ nowhere ]
`;

let backend: TestBackend;
let server: TestServer;

beforeAll(async () => {
  backend = await pgliteBackend();
  server = await startTestServer(backend);
}, 60_000);

afterAll(async () => {
  await server?.close();
  await backend?.dispose();
});

const graph = async (payload: Record<string, unknown>) =>
  server.app.inject({ method: 'POST', url: '/api/catalog/graph', payload });

describe('POST /api/catalog/graph', () => {
  it('gives the graph of a valid playbook: kinds, loop, fan-in, arcs with when', async () => {
    const r = await graph({ content: FLOW });
    expect(r.statusCode, r.body).toBe(200);
    const body = r.json();
    expect(body.valid).toBe(true);
    expect(body.graph).toEqual({
      entry: 'start',
      steps: [
        { name: 'start', kind: 'http', desc: 'fetch things' },
        {
          name: 'left',
          kind: 'python',
          loop: { mode: 'parallel', max_in_flight: 2, over: '{{ workload.items }}' },
        },
        { name: 'right', kind: 'pipeline' },
        { name: 'join', kind: 'noop', fan_in: true },
        { name: 'end', kind: 'shell' },
      ],
      arcs: [
        { from: 'start', to: 'left', when: "{{ start.status == 'ok' }}" },
        { from: 'start', to: 'right' },
        { from: 'left', to: 'join' },
        { from: 'right', to: 'join' },
        { from: 'join', to: 'end' },
      ],
    });
  });

  it('reads a catalog entry by path and version, and base64 content', async () => {
    const reg = await server.app.inject({
      method: 'POST',
      url: '/api/catalog/register',
      payload: { content: FLOW },
    });
    expect(reg.statusCode, reg.body).toBe(200);
    const byPath = await graph({ path: 'tests/graph/flow' });
    expect(byPath.statusCode).toBe(200);
    expect(byPath.json().graph.steps).toHaveLength(5);
    expect((await graph({ path: 'tests/graph/flow', version: 1 })).json().graph.entry).toBe('start');
    const b64 = await graph({ content: Buffer.from(FLOW).toString('base64') });
    expect(b64.json().graph.steps.map((s: { name: string }) => s.name)).toEqual([
      'start',
      'left',
      'right',
      'join',
      'end',
    ]);
  });

  it('reports every diagnostic at its line and column, with no graph', async () => {
    const r = await graph({ content: BROKEN });
    expect(r.statusCode).toBe(200);
    const body = r.json();
    expect(body.valid).toBe(false);
    expect(body.graph).toBeNull();
    const d = body.diagnostics.find((x: { code: string }) => x.code === 'UNDEFINED_STEP');
    expect(d).toMatchObject({ severity: 'error', line: 7 });
    expect(d.col).toBeGreaterThan(0);
    const yaml = (await graph({ content: 'workflow: [\n  - step: a\n' })).json();
    expect(yaml.valid).toBe(false);
    expect(yaml.diagnostics[0]).toMatchObject({ code: 'YAML_SYNTAX', severity: 'error' });
  });

  it('answers 404 for an unknown path and 400 without content or path', async () => {
    expect((await graph({ path: 'no/such' })).statusCode).toBe(404);
    const none = await graph({});
    expect(none.statusCode).toBe(400);
    expect(none.json()).toMatchObject({ code: 'BAD_REQUEST' });
  });
});
