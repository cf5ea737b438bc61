import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DIAGNOSTIC_CODES, parsePlaybook, type Diagnostic } from './index.js';

// NoETL's e2e playbooks beside the repository (CI has them at ../shared; a user's clone does not).
const CONFORMANCE = new URL('../../../shared/conformance/noetl-e2e', import.meta.url).pathname;
const HAVE_UPSTREAM = existsSync(CONFORMANCE);
if (!HAVE_UPSTREAM) console.warn(`[skipped] src/dsl/parse.test.ts: upstream corpus not at ${CONFORMANCE}`);
const files = HAVE_UPSTREAM
  ? [
      ...readdirSync(CONFORMANCE).filter((f) => f.endsWith('.yaml')),
      ...readdirSync(join(CONFORMANCE, 'local'))
        .filter((f) => f.endsWith('.yaml'))
        .map((f) => `local/${f}`),
    ]
  : [];

const errors = (d: readonly Diagnostic[]) => d.filter((x) => x.severity === 'error');
const brief = (d: readonly Diagnostic[]) => d.map((x) => `${x.code}@${x.line}:${x.column}`);

function playbook(workflow: string, head = ''): string {
  return `apiVersion: noetl.io/v2\nkind: Playbook\nmetadata:\n  name: t\n${head}workflow:\n${workflow}`;
}

describe.skipIf(!HAVE_UPSTREAM)('conformance playbooks', () => {
  it('finds the corpus', () => {
    expect(files.length).toBeGreaterThanOrEqual(24);
  });

  it.each(files)('%s parses with no errors', (file) => {
    const result = parsePlaybook(readFileSync(join(CONFORMANCE, file), 'utf8'), { file });
    expect(errors(result.diagnostics)).toEqual([]);
    expect(result.playbook?.metadata.name).toBeTruthy();
    expect(result.playbook?.source?.file).toBe(file);
  });

  it('keeps the metadata, executor, keychain and step positions', () => {
    const text = readFileSync(join(CONFORMANCE, 'v10_canonical_example.yaml'), 'utf8');
    const pb = parsePlaybook(text).playbook!;
    expect(pb.metadata).toMatchObject({
      name: 'v10_canonical_example',
      path: 'v10_canonical_example',
      version: '10.0',
    });
    expect(pb.executor).toEqual({
      profile: 'auto',
      version: 'noetl-runtime/1',
      requiresTools: ['http', 'python', 'postgres'],
      entryStep: 'start',
      noNextIsError: false,
    });
    expect(pb.workflow.map((s) => s.name)).toEqual([
      'start',
      'fetch_data',
      'process_data',
      'store_results',
      'end',
    ]);
    expect(pb.steps.get('start')?.position).toEqual({ line: 51, column: 5 });
    expect(pb.steps.get('store_results')?.loop).toEqual({
      in: '{{ process_data.results.transform.items or [1, 2, 3] }}',
      iterator: 'item',
      mode: 'parallel',
      maxInFlight: 5,
    });
    const kc = parsePlaybook(readFileSync(join(CONFORMANCE, 'keychain.yaml'), 'utf8')).playbook!.keychain;
    expect(kc.map((k) => [k.name, k.kind])).toEqual([
      ['openai_token', 'bearer'],
      ['amadeus_credentials', 'static'],
      ['amadeus_token', 'oauth2'],
    ]);
    expect(kc[1]!.fields.map).toEqual({
      client_id: '{{ amadeus_client_id }}',
      client_secret: '{{ amadeus_client_secret }}',
    });
  });

  it('warns about an unreachable step', () => {
    const text = readFileSync(join(CONFORMANCE, 'implicit_end_routing.yaml'), 'utf8');
    const result = parsePlaybook(text);
    expect(result.playbook).toBeDefined();
    expect(result.diagnostics).toEqual([
      expect.objectContaining({
        code: 'UNREACHABLE_STEP',
        severity: 'warning',
        path: 'workflow[2].step',
        line: 31,
        column: 5,
      }),
    ]);
  });
});

describe('diagnostics', () => {
  it('reports every problem at once with codes and line:col', () => {
    const text = [
      'apiVersion: noetl.io/v1', // 1
      'kind: Playbook', // 2
      'metadata:', // 3
      '  path: x/y', // 4
      'workbook:', // 5
      '  - name: calc', // 6
      '    tool: {kind: python, code: "result = 1"}', // 7
      'workflow:', // 8
      '  - step: begin', // 9
      '    tool: {kind: pyhton, code: "x"}', // 10
      '    next: [missing]', // 11
      '  - step: begin', // 12
      '    tool:', // 13
      '      kind: workbook', // 14
      '      name: calk', // 15
      '    loop: {in: "{{ items }}", spec: {mode: fast}}', // 16
      '    when: "{{ a = 1 }}"', // 17
      '  - step: other', // 18
      '    tool:', // 19
      '      kind: http', // 20
      '      url: "{{ base }/x"', // 21
      '      spec:', // 22
      '        policy:', // 23
      '          rules:', // 24
      '            - then: {do: retry}', // 25
      '            - when: "{{ ok }}"', // 26
      '              then: {do: jump, to: nowhere}', // 27
      '    next:', // 28
      '      spec: {mode: exclusive}', // 29
      '      arcs:', // 30
      '        - step: nope', // 31
      '          when: "{{ x }}"', // 32
      '        - {step: begin, when: "{% if %}"}', // 33
      '',
    ].join('\n');
    const result = parsePlaybook(text);
    expect(result.playbook).toBeUndefined();
    expect(brief(errors(result.diagnostics))).toEqual([
      'API_VERSION@1:1',
      'MISSING_FIELD@3:1',
      'NO_START_STEP@8:1',
      'UNKNOWN_TOOL_KIND@10:12',
      'UNDEFINED_STEP@11:12',
      'DUPLICATE_STEP@12:5',
      'UNKNOWN_WORKBOOK@15:7',
      'LOOP_INVALID@16:5',
      'LOOP_INVALID@16:38',
      'TEMPLATE_SYNTAX@17:5',
      'TEMPLATE_SYNTAX@21:7',
      'POLICY_INVALID@25:15',
      'POLICY_INVALID@27:32',
      'UNDEFINED_STEP@31:11',
      'TEMPLATE_SYNTAX@33:25',
    ]);
    const byCode = (code: string) => result.diagnostics.find((d) => d.code === code)!;
    expect(byCode('UNKNOWN_TOOL_KIND').message).toContain("did you mean 'python'");
    expect(byCode('UNKNOWN_WORKBOOK').message).toContain('available: calc');
    expect(byCode('UNKNOWN_WORKBOOK').message).toContain("did you mean 'calc'");
    expect(byCode('DUPLICATE_STEP').message).toContain('line 9:5');
    expect(byCode('MISSING_FIELD').path).toBe('metadata');
    const undefinedSteps = result.diagnostics.filter((d) => d.code === 'UNDEFINED_STEP');
    expect(undefinedSteps.map((d) => d.path)).toEqual([
      'workflow[0].next[0]',
      'workflow[2].next.arcs[0].step',
    ]);
  });

  it('reports YAML syntax errors with line:col and stops there', () => {
    const result = parsePlaybook('apiVersion: noetl.io/v2\nworkflow:\n  - step: [a\n  - b: c\n');
    expect(result.playbook).toBeUndefined();
    expect(result.diagnostics.length).toBeGreaterThan(0);
    expect(result.diagnostics.every((d) => d.code === 'YAML_SYNTAX')).toBe(true);
    expect(result.diagnostics[0]!.line).toBeGreaterThanOrEqual(3);
  });

  it('keeps going after duplicate YAML keys', () => {
    const result = parsePlaybook(
      playbook('  - step: start\n    tool: {kind: noop}\n    tool: {kind: noop}\n'),
    );
    expect(brief(result.diagnostics)).toEqual(['YAML_SYNTAX@8:5']);
  });

  it('rejects a document that is not a map, and a wrong kind', () => {
    expect(brief(parsePlaybook('- a\n- b\n').diagnostics)).toEqual(['NOT_A_MAP@1:1']);
    const r = parsePlaybook('apiVersion: noetl.io/v2\nkind: Credential\nmetadata: {name: x}\nworkflow: {}\n');
    expect(brief(r.diagnostics)).toEqual(['KIND@2:1', 'INVALID_TYPE@4:1']);
  });

  it('points a missing start step at the workflow key, unless executor.spec.entry_step names a step', () => {
    const flow = '  - step: first\n    tool: {kind: noop}\n';
    expect(brief(parsePlaybook(playbook(flow)).diagnostics)).toEqual(['NO_START_STEP@5:1']);
    const withEntry = parsePlaybook(playbook(flow, 'executor:\n  spec: {entry_step: first}\n'));
    expect(withEntry.diagnostics).toEqual([]);
    expect(withEntry.playbook?.executor?.entryStep).toBe('first');
    const badEntry = parsePlaybook(playbook(flow, 'executor:\n  spec: {entry_step: frist}\n'));
    expect(brief(badEntry.diagnostics)).toEqual(['UNDEFINED_STEP@6:10', 'NO_START_STEP@7:1']);
  });

  it('allows steps without tool locally but not in server mode', () => {
    const text = playbook('  - step: start\n    next: end\n  - step: end\n    tool: {kind: noop}\n');
    const local = parsePlaybook(text);
    expect(local.diagnostics).toEqual([]);
    expect(local.playbook?.steps.get('start')?.tool).toBeUndefined();
    const server = parsePlaybook(text, { mode: 'server' });
    expect(brief(server.diagnostics)).toEqual(['MISSING_FIELD@6:5']);
    expect(server.playbook).toBeUndefined();
  });

  it('accepts custom tool kinds', () => {
    const text = playbook('  - step: start\n    tool: {kind: custom}\n');
    expect(brief(parsePlaybook(text).diagnostics)).toEqual(['UNKNOWN_TOOL_KIND@7:12']);
    expect(parsePlaybook(text, { toolKinds: new Set(['custom']) }).diagnostics).toEqual([]);
  });

  it('checks templates everywhere: workload, set, input, loop.in, arcs, bare when expressions', () => {
    const text = [
      'apiVersion: noetl.io/v2',
      'kind: Playbook',
      'metadata: {name: t}',
      'workload: {a: "{{ x", ok: "{{ y }}"}',
      'workflow:',
      '  - step: start',
      '    when: "x ==="',
      '    tool: {kind: noop}',
      '    set: {ctx.a: "{{ 1 + }}"}',
      '    input: {b: "{% for %}"}',
      '    loop: {in: "{{ [1, }}", iterator: i}',
      '    next: {arcs: [{step: start, set: {k: "{{ ) }}"}}]}',
      '',
    ].join('\n');
    const d = parsePlaybook(text).diagnostics;
    expect(d.every((x) => x.code === 'TEMPLATE_SYNTAX')).toBe(true);
    expect(d.map((x) => x.path)).toEqual([
      'workload.a',
      'workflow[0].when',
      'workflow[0].set["ctx.a"]',
      'workflow[0].input.b',
      'workflow[0].loop.in',
      'workflow[0].next.arcs[0].set.k',
    ]);
  });

  it('reports malformed loops', () => {
    const text = playbook(
      [
        '  - step: start',
        '    tool: {kind: noop}',
        '    loop: {in: [1, 2]}',
        '    next: [b, c]',
        '  - step: b',
        '    tool: {kind: noop}',
        '    loop: {iterator: "a b", in: x, spec: {max_in_flight: 0}}',
        '  - step: c',
        '    tool: {kind: noop}',
        '    loop: {iterator: r, spec: {mode: cursor}}',
        '',
      ].join('\n'),
    );
    const d = parsePlaybook(text).diagnostics;
    expect(brief(d)).toEqual([
      'LOOP_INVALID@8:5',
      'LOOP_INVALID@12:12',
      'LOOP_INVALID@12:43',
      'LOOP_INVALID@15:5',
    ]);
    expect(d[0]!.message).toContain('iterator');
    expect(d[3]!.message).toContain('cursor');
  });

  it('reports metadata, keychain and executor problems', () => {
    const text = [
      'apiVersion: noetl.io/v2',
      'kind: Playbook',
      'metadata: {name: t, labels: [a]}',
      'keychain:',
      '  - {name: k, kind: bearer}',
      '  - {name: k, kind: static}',
      '  - {kind: static}',
      'executor: {profile: cloud, requires: {tools: http}}',
      'workflow:',
      '  - step: start',
      '    tool: {kind: noop}',
      '',
    ].join('\n');
    expect(brief(parsePlaybook(text).diagnostics)).toEqual([
      'INVALID_TYPE@3:21',
      'KEYCHAIN_INVALID@6:6',
      'KEYCHAIN_INVALID@7:5',
      'EXECUTOR_INVALID@8:12',
      'EXECUTOR_INVALID@8:28',
    ]);
  });

  it('falls back to metadata.name for the path', () => {
    const pb = parsePlaybook(playbook('  - step: start\n    tool: {kind: noop}\n')).playbook!;
    expect(pb.metadata.path).toBe('t');
    expect(pb.workload).toEqual({});
    expect(pb.keychain).toEqual([]);
    expect(pb.workbook).toEqual([]);
    expect(pb.executor).toBeUndefined();
    expect(pb.source).toBeUndefined();
  });
});

describe('docs/errors.md', () => {
  it('documents every diagnostic code in its Playbook diagnostics section', () => {
    const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
    const section = doc.slice(doc.indexOf('## Playbook diagnostics'));
    expect(section.startsWith('## Playbook diagnostics')).toBe(true);
    for (const code of DIAGNOSTIC_CODES) expect(section, code).toContain(`| \`${code}\` |`);
  });
});
