import { describe, expect, it } from 'vitest';
import { normalizeTool, parsePlaybook, type Diagnostic } from './index.js';

const HEAD = 'apiVersion: noetl.io/v2\nkind: Playbook\nmetadata:\n  name: t\nworkflow:\n  - step: start\n';
const codes = (d: readonly Diagnostic[]) =>
  d.map((x) => `${x.severity} ${x.code} ${x.line}:${x.column} ${x.path}`);

describe('step output block', () => {
  it("reads NoETL's output_select and select forms onto the step's tool", () => {
    const { playbook, diagnostics } = parsePlaybook(`${HEAD}    tool:
      - name: gen
        kind: python
        code: "result = 1"
    output:
      store: { kind: auto, ttl: 1h }
      output_select: [status, gen.meta.page, "data.items[0].id"]
      select:
        - { path: "$.paging.hasMore", as: has_more }
        - $.paging.page
      inline_max_bytes: 100
      preview_max_bytes: 8
      scope: execution
`);
    expect(codes(diagnostics)).toEqual([]);
    expect(playbook?.steps.get('start')?.tool?.output).toEqual({
      store: 'auto',
      select: [
        { path: 'status', as: 'status' },
        { path: 'gen.meta.page', as: 'page' },
        { path: 'data.items[0].id', as: 'id' },
        { path: '$.paging.hasMore', as: 'has_more' },
        { path: '$.paging.page', as: 'page' },
      ],
      inlineMaxBytes: 100,
      previewMaxBytes: 8,
    });
  });

  it('takes a store kind as a string, reads object as disk, defaults to auto', () => {
    const kind = (store: string) =>
      parsePlaybook(
        `${HEAD}    tool: { kind: noop }\n    output:\n      store: ${store}\n`,
      ).playbook?.steps.get('start')?.tool?.output?.store;
    expect(kind('kv')).toBe('kv');
    expect(kind('{ kind: object }')).toBe('disk');
    expect(kind('{ kind: GCS }')).toBe('gcs');
    expect(kind('{ bucket: b }')).toBe('auto');
  });

  it('reports every problem of the block at its line:col', () => {
    const { playbook, diagnostics } = parsePlaybook(`${HEAD}    tool: { kind: noop }
    output:
      store: { kind: nats_object, region: eu }
      output_select: [status, 3, { as: x }]
      select: status
      inline_max_bytes: -1
      preview_max_bytes: "1k"
      keep: true
`);
    expect(playbook).toBeUndefined();
    expect(codes(diagnostics)).toEqual([
      'error INVALID_TYPE 9:16 workflow[0].output.store.kind',
      'warning UNKNOWN_KEY 9:35 workflow[0].output.store.region',
      'error INVALID_TYPE 10:31 workflow[0].output.output_select[1]',
      'error INVALID_TYPE 10:34 workflow[0].output.output_select[2]',
      'error INVALID_TYPE 11:7 workflow[0].output.select',
      'error INVALID_TYPE 12:7 workflow[0].output.inline_max_bytes',
      'error INVALID_TYPE 13:7 workflow[0].output.preview_max_bytes',
      'warning UNKNOWN_KEY 14:7 workflow[0].output.keep',
    ]);
    const store = diagnostics.find((d) => d.path === 'workflow[0].output.store.kind');
    expect(store?.message).toContain('auto, memory, kv, disk');
  });

  it('refuses an output that is not a map and warns about one on a step without a tool', () => {
    expect(codes(parsePlaybook(`${HEAD}    tool: { kind: noop }\n    output: kv\n`).diagnostics)).toEqual([
      'error INVALID_TYPE 8:5 workflow[0].output',
    ]);
    const router = parsePlaybook(`${HEAD}    output: { store: kv }\n`);
    expect(codes(router.diagnostics)).toEqual(['warning UNKNOWN_KEY 7:5 workflow[0].output']);
    expect(router.playbook?.steps.get('start')?.tool).toBeUndefined();
  });

  it('leaves a step without output, and a tool-level output key, as they were', () => {
    const { playbook } = parsePlaybook(
      `${HEAD}    tool: { kind: postgres, query: "SELECT 1", output: { store: { kind: kv } } }\n`,
    );
    const tool = playbook?.steps.get('start')?.tool;
    expect(tool?.output).toBeUndefined();
    expect(tool?.tasks[0]?.config['output']).toEqual({ store: { kind: 'kv' } });
  });

  it('travels with the tool config of a command and is read back by the worker', () => {
    const { playbook } = parsePlaybook(
      `${HEAD}    tool: [{ name: a, kind: noop }]\n    output: { store: s3, output_select: [x] }\n`,
    );
    const tool = playbook!.steps.get('start')!.tool!;
    const back = normalizeTool(JSON.parse(JSON.stringify(tool)), 'start');
    expect(back).toEqual(tool);
    // malformed output JSON is dropped, never guessed
    const bad = normalizeTool({ ...JSON.parse(JSON.stringify(tool)), output: { store: 'tape' } }, 'start');
    expect(bad.output).toBeUndefined();
  });
});
