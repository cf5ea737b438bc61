import { describe, expect, it } from 'vitest';
import { parsePlaybook, type Diagnostic, type NextSpec } from './index.js';

const TARGETS = ['b', 'c', 'end'].map((s) => `  - step: ${s}\n    tool: {kind: noop}\n`).join('');

function nextOf(start: string): { next: NextSpec | undefined; diagnostics: readonly Diagnostic[] } {
  const text = `apiVersion: noetl.io/v2\nkind: Playbook\nmetadata: {name: t}\nworkflow:\n  - step: start\n    tool: {kind: noop}\n${start}${TARGETS}`;
  const r = parsePlaybook(text);
  return { next: r.playbook?.steps.get('start')?.next, diagnostics: r.diagnostics };
}

describe('next shapes', () => {
  it('a single name', () => {
    expect(nextOf('    next: b\n').next).toEqual({ mode: 'exclusive', arcs: [{ step: 'b' }] });
  });

  it('a list of names fans out (inclusive)', () => {
    expect(nextOf('    next: [b, c]\n').next).toEqual({
      mode: 'inclusive',
      arcs: [{ step: 'b' }, { step: 'c' }],
    });
  });

  it('a legacy target list takes its mode from spec.next_mode (default exclusive)', () => {
    const list = '    next:\n      - {step: b, when: "{{ x }}", args: {k: 1}}\n      - step: c\n';
    expect(nextOf(list).next).toEqual({
      mode: 'exclusive',
      arcs: [{ step: 'b', when: '{{ x }}', args: { k: 1 } }, { step: 'c' }],
    });
    expect(nextOf(`    spec: {next_mode: inclusive}\n${list}`).next?.mode).toBe('inclusive');
    expect(nextOf(`    spec: {next_mode: both}\n${list}`).diagnostics[0]).toMatchObject({
      code: 'NEXT_INVALID',
      path: 'workflow[0].spec.next_mode',
    });
  });

  it('the canonical router', () => {
    const { next, diagnostics } = nextOf(
      '    next:\n      spec: {mode: inclusive}\n      arcs:\n        - {step: b, when: true, set: {ctx.x: "{{ start.y }}"}}\n        - c\n',
    );
    expect(diagnostics.map((d) => d.code)).toEqual(['UNREACHABLE_STEP']); // `end`
    expect(next).toEqual({
      mode: 'inclusive',
      arcs: [{ step: 'b', when: true, set: { 'ctx.x': '{{ start.y }}' } }, { step: 'c' }],
    });
    expect(nextOf('    next: {arcs: [end]}\n').next).toEqual({ mode: 'exclusive', arcs: [{ step: 'end' }] });
  });

  it('legacy `{when, then}` / `{else}` items become exclusive arcs', () => {
    const { next, diagnostics } = nextOf(
      [
        '    next:',
        '      - when: "{{ a }}"',
        '        then:',
        '          - step: b',
        '          - {step: c, when: "{{ d }}"}',
        '      - else:',
        '          - step: end',
        '',
      ].join('\n'),
    );
    expect(diagnostics).toEqual([]);
    expect(next).toEqual({
      mode: 'exclusive',
      arcs: [{ step: 'b', when: '{{ a }}' }, { step: 'c', when: '{{ (a) and (d) }}' }, { step: 'end' }],
    });
  });

  it('reports malformed next blocks and undefined targets of every shape', () => {
    const cases: [string, string, string][] = [
      ['    next: nowhere\n', 'UNDEFINED_STEP', 'workflow[0].next'],
      ['    next: [b, nowhere]\n', 'UNDEFINED_STEP', 'workflow[0].next[1]'],
      ['    next: [{step: nowhere}]\n', 'UNDEFINED_STEP', 'workflow[0].next[0].step'],
      ['    next: {arcs: [{step: nowhere}]}\n', 'UNDEFINED_STEP', 'workflow[0].next.arcs[0].step'],
      ['    next: [{when: x, then: [nowhere]}]\n', 'UNDEFINED_STEP', 'workflow[0].next[0].then[0]'],
      ['    next: {step: b}\n', 'NEXT_INVALID', 'workflow[0].next'],
      ['    next: {spec: {mode: all}, arcs: [b]}\n', 'NEXT_INVALID', 'workflow[0].next.spec.mode'],
      ['    next: {arcs: b}\n', 'NEXT_INVALID', 'workflow[0].next.arcs'],
      ['    next: {arcs: [{when: x}]}\n', 'NEXT_INVALID', 'workflow[0].next.arcs[0]'],
      ['    next: {arcs: [{step: b, set: 1}]}\n', 'NEXT_INVALID', 'workflow[0].next.arcs[0].set'],
      ['    next: 5\n', 'NEXT_INVALID', 'workflow[0].next'],
      ['    next: [{step: b}, 5]\n', 'NEXT_INVALID', 'workflow[0].next[1]'],
    ];
    for (const [yaml, code, path] of cases) {
      const errors = nextOf(yaml).diagnostics.filter((d) => d.severity === 'error');
      expect(
        errors.map((d) => [d.code, d.path]),
        yaml,
      ).toEqual([[code, path]]);
    }
  });
});

describe('legacy case', () => {
  const block = [
    '    case:',
    '      - when: "{{ workload.env == \'prod\' }}"',
    '        then:',
    '          - step: b',
    '      - when: "{{ workload.env == \'dev\' }}"',
    '        then: {next: [{step: c, when: "{{ fast }}"}]}',
    '        else: [end]',
    '    next: end',
    '',
  ].join('\n');

  it('is converted into exclusive arcs in local mode, with a LEGACY_CASE warning showing the replacement', () => {
    const { next, diagnostics } = nextOf(block);
    expect(next).toEqual({
      mode: 'exclusive',
      arcs: [
        { step: 'b', when: "{{ workload.env == 'prod' }}" },
        { step: 'c', when: "{{ (workload.env == 'dev') and (fast) }}" },
        { step: 'end' },
        { step: 'end' },
      ],
    });
    expect(diagnostics).toHaveLength(1);
    const d = diagnostics[0]!;
    expect(d).toMatchObject({
      code: 'LEGACY_CASE',
      severity: 'warning',
      path: 'workflow[0].case',
      line: 7,
      column: 5,
    });
    expect(d.message).toContain('next:\n  spec:\n    mode: exclusive\n  arcs:\n    - step: b\n');
    expect(d.message).toContain('when: "{{ workload.env == \'prod\' }}"');
  });

  it('is an error in server mode', () => {
    const text = `apiVersion: noetl.io/v2\nkind: Playbook\nmetadata: {name: t}\nworkflow:\n  - step: start\n    tool: {kind: noop}\n${block}${TARGETS}`;
    const r = parsePlaybook(text, { mode: 'server' });
    expect(r.playbook).toBeUndefined();
    expect(r.diagnostics.map((d) => [d.code, d.severity])).toEqual([['LEGACY_CASE', 'error']]);
  });

  it('refuses Rhai conditions and checks case targets', () => {
    const { diagnostics } = nextOf(
      '    case:\n      - rhai: "true"\n        then: [b]\n      - when: x\n        then: [zz]\n',
    );
    const relevant = diagnostics.filter((d) => d.code !== 'UNREACHABLE_STEP');
    expect(relevant.map((d) => `${d.code}:${d.severity}`)).toEqual([
      'LEGACY_CASE:warning',
      'LEGACY_CASE:error',
      'UNDEFINED_STEP:error',
    ]);
  });
});
