import { describe, expect, it } from 'vitest';
import { ValidationError } from '../shared/index.js';
import { normalizeTool, parsePlaybook, type Diagnostic, type Step, type ToolSpec } from './index.js';
import { rawToolConfig } from './normalize-tool.js';

function stepOf(tool: string, extra = ''): { step: Step | undefined; diagnostics: readonly Diagnostic[] } {
  const text = `apiVersion: noetl.io/v2\nkind: Playbook\nmetadata: {name: t}\n${extra}workflow:\n  - step: start\n    tool:\n${tool}`;
  const r = parsePlaybook(text);
  return { step: r.playbook?.steps.get('start'), diagnostics: r.diagnostics };
}

describe('tool shapes', () => {
  it('single map: one task labelled with the step name, spec keys hoisted, own keys win', () => {
    const { step, diagnostics } = stepOf(
      [
        '      kind: http',
        '      name: ignored',
        '      url: own',
        '      spec:',
        '        url: from-spec',
        '        method: GET',
        '        timeout: 5',
        '        policy: {rules: [{when: "{{ output.status == \'error\' }}", then: {do: retry}}]}',
        '      set: {a: "{{ output }}"}',
        '',
      ].join('\n'),
    );
    expect(diagnostics).toEqual([]);
    expect(step?.tool).toEqual({
      shape: 'single',
      tasks: [
        {
          label: 'start',
          kind: 'http',
          config: { url: 'own', method: 'GET', timeout: 5 },
          policy: {
            rules: [{ when: "{{ output.status == 'error' }}", isElse: false, then: { do: 'retry' } }],
          },
          set: { a: '{{ output }}' },
        },
      ],
    });
  });

  it('pipeline, flat form with `name:` labels', () => {
    const { step } = stepOf(
      ['      - name: fetch', '        kind: http', '        url: u', '      - kind: noop', ''].join('\n'),
    );
    expect(step?.tool?.shape).toBe('pipeline');
    expect(step?.tool?.tasks.map((t) => [t.label, t.kind, t.config])).toEqual([
      ['fetch', 'http', { url: 'u' }],
      ['task_1', 'noop', {}],
    ]);
  });

  it('pipeline, label-as-key form', () => {
    const { step, diagnostics } = stepOf(
      [
        '      - fetch: {kind: http, url: u, set: {x: "{{ output }}"}}',
        '      - save: {kind: postgres, command: c}',
        '',
      ].join('\n'),
    );
    expect(diagnostics).toEqual([]);
    expect(step?.tool?.tasks).toEqual([
      { label: 'fetch', kind: 'http', config: { url: 'u' }, set: { x: '{{ output }}' } },
      { label: 'save', kind: 'postgres', config: { command: 'c' } },
    ]);
  });

  it('reports bad pipeline items, duplicate labels, unknown jump targets', () => {
    const { diagnostics } = stepOf(
      [
        '      - a: {kind: noop}',
        '      - a: {kind: noop}',
        '      - {x: 1, y: 2}',
        '      - name: j',
        '        kind: noop',
        '        spec: {policy: {rules: [{when: true, then: {do: jump, to: b}}, {when: true, do: jump}]}}',
        '      - 7',
        '',
      ].join('\n'),
    );
    expect(diagnostics.map((d) => `${d.code}@${d.line}`)).toEqual([
      'DUPLICATE_NAME@8',
      'MISSING_FIELD@9',
      'POLICY_INVALID@12',
      'POLICY_INVALID@12',
      'INVALID_TYPE@13',
    ]);
  });

  it('rejects the legacy string form and an empty pipeline', () => {
    expect(stepOf('      python\n').diagnostics[0]).toMatchObject({
      code: 'INVALID_TYPE',
      path: 'workflow[0].tool',
    });
    expect(stepOf('      []\n').diagnostics[0]).toMatchObject({ code: 'INVALID_TYPE' });
    expect(stepOf('      {code: x}\n').diagnostics[0]).toMatchObject({ code: 'MISSING_FIELD' });
  });
});

describe('policy rules', () => {
  const rules = (yaml: string) =>
    stepOf(`      kind: noop\n      spec:\n        policy:\n          rules:\n${yaml}`);

  it('reads every rule shape; `do` defaults to continue', () => {
    const { step, diagnostics } = rules(
      [
        '            - when: "{{ a }}"',
        '              then: {do: retry, attempts: 5, backoff: exponential, delay: 0.5}',
        '            - {when: b, do: fail}',
        '            - {when: false, then: {set: {x: 1}}}',
        '            - else: {then: {do: break}}',
        '            - else: {do: continue, set: {iter.page: 1}}',
        '            - else:',
        '              then: {do: jump, to: previous}',
        '            - else:',
        '',
      ].join('\n'),
    );
    expect(diagnostics).toEqual([]);
    expect(step?.tool?.tasks[0]?.policy?.rules).toEqual([
      {
        when: '{{ a }}',
        isElse: false,
        then: { do: 'retry', attempts: 5, backoff: 'exponential', delay: 0.5 },
      },
      { when: 'b', isElse: false, then: { do: 'fail' } },
      { when: false, isElse: false, then: { do: 'continue', set: { x: 1 } } },
      { isElse: true, then: { do: 'break' } },
      { isElse: true, then: { do: 'continue', set: { 'iter.page': 1 } } },
      { isElse: true, then: { do: 'jump', to: 'previous' } },
      { isElse: true, then: { do: 'continue' } },
    ]);
  });

  it('turns unknown verbs and backoffs into continue / fixed, with warnings', () => {
    const { step, diagnostics } = rules('            - {when: a, then: {do: explode, backoff: cubic}}\n');
    expect(diagnostics.map((d) => [d.code, d.severity])).toEqual([
      ['POLICY_INVALID', 'warning'],
      ['POLICY_INVALID', 'warning'],
    ]);
    expect(step?.tool?.tasks[0]?.policy?.rules[0]?.then).toEqual({ do: 'continue', backoff: 'fixed' });
  });

  it('reports malformed rules', () => {
    const { diagnostics } = rules(
      [
        '            - {then: {do: retry}}',
        '            - {when: a, else: {}}',
        '            - {when: a, then: {do: retry, attempts: 0, delay: -1}}',
        '            - {when: "{{ a", then: {do: continue}}',
        '            - {when: a, then: [1]}',
        '            - 3',
        '',
      ].join('\n'),
    );
    expect(diagnostics.map((d) => d.code)).toEqual([
      'POLICY_INVALID',
      'POLICY_INVALID',
      'POLICY_INVALID',
      'POLICY_INVALID',
      'TEMPLATE_SYNTAX',
      'POLICY_INVALID',
      'POLICY_INVALID',
    ]);
  });

  it('reads a legacy `eval` list as rules', () => {
    const { step } = stepOf(
      '      kind: http\n      url: u\n      eval:\n        - {expr: "{{ a }}", do: retry, attempts: 2}\n        - else: {do: continue}\n',
    );
    expect(step?.tool?.tasks[0]).toEqual({
      label: 'start',
      kind: 'http',
      config: { url: 'u' },
      policy: {
        rules: [
          { when: '{{ a }}', isElse: false, then: { do: 'retry', attempts: 2 } },
          { isElse: true, then: { do: 'continue' } },
        ],
      },
    });
  });
});

describe('workbook references', () => {
  const workbook = [
    'workbook:',
    '  - name: calc',
    '    tool:',
    '      kind: python',
    '      input: {a: null, b: 2}',
    '      code: "result = a"',
    '      spec: {timeout: 3}',
    '',
  ].join('\n');

  it('replaces the tool with the workbook tool and merges input (step input wins)', () => {
    const { step, diagnostics } = stepOf(
      '      kind: workbook\n      name: calc\n      input: {a: "{{ x }}"}\n      spec: {policy: {rules: [{else: {do: continue}}]}}\n',
      workbook,
    );
    expect(diagnostics).toEqual([]);
    expect(step?.tool?.tasks).toEqual([
      {
        label: 'start',
        kind: 'python',
        config: { input: { a: '{{ x }}', b: 2 }, code: 'result = a', timeout: 3 },
        policy: { rules: [{ isElse: true, then: { do: 'continue' } }] },
      },
    ]);
  });

  it('resolves references inside pipelines too', () => {
    // flat form: `name` is both the task label and the workbook entry
    const { step } = stepOf('      - name: calc\n        kind: workbook\n', workbook);
    expect(step?.tool?.tasks[0]).toMatchObject({ label: 'calc', kind: 'python' });
    const ok = stepOf('      - c: {kind: workbook, name: calc}\n', workbook);
    expect(ok.step?.tool?.tasks[0]).toMatchObject({ label: 'c', kind: 'python' });
  });

  it('lists the available names for an unknown workbook entry', () => {
    const { diagnostics } = stepOf('      kind: workbook\n      name: nope\n', workbook);
    expect(diagnostics).toEqual([
      expect.objectContaining({
        code: 'UNKNOWN_WORKBOOK',
        path: 'workflow[0].tool.name',
        line: 15,
        column: 7,
      }),
    ]);
    expect(diagnostics[0]?.message).toContain('available: calc');
  });

  it('reports problems of a workbook entry once, at the entry', () => {
    const bad =
      'workbook:\n  - name: w\n    tool: {kind: pythn}\n  - name: w\n    tool: {kind: noop}\n  - {tool: {kind: noop}}\n';
    const { diagnostics } = stepOf('      kind: workbook\n      name: w\n', bad);
    expect(diagnostics.map((d) => `${d.code}@${d.line}`)).toEqual([
      'UNKNOWN_TOOL_KIND@6',
      'DUPLICATE_NAME@7',
      'MISSING_FIELD@9',
    ]);
  });
});

describe('normalizeTool / rawToolConfig', () => {
  it('round-trips single tools and pipelines', () => {
    const tools: unknown[] = [
      {
        kind: 'python',
        code: 'x',
        input: { a: 1 },
        spec: { name: 'kept', policy: { rules: [{ when: 'a', do: 'fail' }] } },
      },
      [
        { name: 'a', kind: 'http', url: 'u', set: { x: '{{ output }}' } },
        { b: { kind: 'noop', spec: { policy: { rules: [{ else: { do: 'jump', to: 'a' } }] } } } },
      ],
    ];
    for (const raw of tools) {
      const spec: ToolSpec = normalizeTool(raw, 'step');
      expect(normalizeTool(rawToolConfig(spec), 'step')).toEqual(spec);
    }
    expect(normalizeTool(tools[0], 'step').tasks[0]?.config).toEqual({
      code: 'x',
      input: { a: 1 },
      name: 'kept',
    });
  });

  it('accepts a ToolSpec serialised as JSON', () => {
    const single = normalizeTool(
      { kind: 'http', url: 'u', spec: { policy: { rules: [{ else: { do: 'break' } }] } } },
      'fetch',
    );
    expect(normalizeTool(JSON.parse(JSON.stringify(single)), 'other')).toEqual(single);
    const pipeline = normalizeTool(
      [{ a: { kind: 'noop', set: { x: 1 } } }, { name: 'b', kind: 'noop', spec: { name: 'n' } }],
      's',
    );
    expect(normalizeTool(JSON.parse(JSON.stringify(pipeline)), 's')).toEqual(pipeline);
    expect(() => normalizeTool({ shape: 'single', tasks: [{ label: 'x' }] }, 's')).toThrow(ValidationError);
  });

  it('accepts the task_sequence wire form', () => {
    const spec = normalizeTool(
      { kind: 'task_sequence', config: [{ a: { kind: 'noop' } }, { b: { kind: 'noop' } }] },
      's',
    );
    expect(spec.tasks.map((t) => t.label)).toEqual(['a', 'b']);
  });

  it('does not check kinds, and throws a ValidationError listing the problems', () => {
    expect(normalizeTool({ kind: 'anything' }, 's').tasks[0]?.kind).toBe('anything');
    expect(() => normalizeTool({ code: 1 }, 's')).toThrow(ValidationError);
    expect(() => normalizeTool([{ kind: 'noop', spec: { policy: 3 } }], 's')).toThrow(/\[0\]\.spec\.policy/);
    expect(() => normalizeTool('python', 's')).toThrow(/legacy string form/);
  });
});
