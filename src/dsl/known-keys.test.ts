import { describe, expect, it } from 'vitest';
import { parsePlaybook, type Diagnostic } from './index.js';

const HEAD = 'apiVersion: noetl.io/v2\nkind: Playbook\nmetadata:\n  name: t\n';
const unknown = (d: readonly Diagnostic[]) =>
  d.filter((x) => x.code === 'UNKNOWN_KEY').map((x) => `${x.line}:${x.column} ${x.path} ${x.message}`);

describe('unknown keys', () => {
  it('warns about a typo in a step with the nearest key, at its line:col', () => {
    const text = `${HEAD}workflow:
  - step: start
    tol:
      kind: noop
`;
    const { playbook, diagnostics } = parsePlaybook(text);
    expect(playbook).toBeDefined();
    const hit = diagnostics.find((d) => d.code === 'UNKNOWN_KEY');
    expect(hit).toMatchObject({ severity: 'warning', line: 7, column: 5, path: 'workflow[0].tol' });
    expect(hit?.message).toContain("did you mean 'tool'?");
  });

  it('warns about `next` indented under `tool:` and does not route it', () => {
    const text = `${HEAD}workflow:
  - step: start
    tool:
      kind: python
      code: "result = 1"
      next:
        - step: end
  - step: end
`;
    const { playbook, diagnostics } = parsePlaybook(text);
    expect(unknown(diagnostics)).toEqual([
      expect.stringMatching(/^10:7 workflow\[0\]\.tool\.next 'next' inside `tool:` .*step level/),
    ]);
    expect(playbook?.steps.get('start')?.next).toBeUndefined();
  });

  it('checks top level, loop, loop.spec, routers, arcs, policies, executor and workbook', () => {
    const text = `${HEAD}worklaod: {}
executor:
  profile: local
  spec:
    entry_stepp: start
workbook:
  - name: w
    tol: {kind: noop}
    tool: {kind: noop}
workflow:
  - step: start
    loop:
      in: [1, 2]
      iterator: i
      itertor: j
      spec:
        mode: parallel
        max_inflight: 2
    tool:
      kind: http
      url: http://x
      anything_http_reads: 1
      spec:
        policy:
          rulez: []
          rules:
            - when: "{{ output.status == 'error' }}"
              then: {do: retry, attemps: 3}
            - when: "{{ false }}"
              do: continue
              dealy: 1
    next:
      spec:
        mdoe: exclusive
      arcs:
        - step: end
          cond: "{{ true }}"
  - step: end
`;
    const got = unknown(parsePlaybook(text).diagnostics);
    expect(got).toEqual([
      expect.stringMatching(/^5:1 worklaod .*did you mean 'workload'/),
      expect.stringMatching(/^9:5 executor\.spec\.entry_stepp .*did you mean 'entry_step'/),
      expect.stringMatching(/^12:5 workbook\[0\]\.tol .*did you mean 'tool'/),
      expect.stringMatching(/^19:7 workflow\[0\]\.loop\.itertor .*did you mean 'iterator'/),
      expect.stringMatching(/^22:9 workflow\[0\]\.loop\.spec\.max_inflight .*did you mean 'max_in_flight'/),
      expect.stringMatching(/^29:11 .*policy\.rulez .*did you mean 'rules'/),
      expect.stringMatching(/^32:33 .*then\.attemps .*did you mean 'attempts'/),
      expect.stringMatching(/^35:15 .*rules\[1\]\.dealy .*did you mean 'delay'/),
      expect.stringMatching(/^38:9 workflow\[0\]\.next\.spec\.mdoe .*did you mean 'mode'/),
      expect.stringMatching(/^41:11 workflow\[0\]\.next\.arcs\[0\]\.cond .*did you mean 'when'/),
    ]);
  });

  it('says where a tool setting written at the step level belongs', () => {
    const text = `${HEAD}workflow:
  - step: start
    tool: {kind: postgres, auth: pg}
    command: SELECT 1
`;
    const [hit] = unknown(parsePlaybook(text).diagnostics);
    expect(hit).toMatch(/^8:5 workflow\[0\]\.command .*indent it under `tool:`/);
  });

  it('accepts every known key, legacy spellings included, and leaves tool configs open', () => {
    const text = `${HEAD}workload: {a: 1}
vars: {}
keychain:
  - {name: k, kind: static, map: {x: y}, anything: 1}
executor:
  profile: auto
  version: noetl-runtime/1
  requires: {tools: [python], features: []}
  spec: {entry_step: start, final_step: end, no_next_is_error: false, policy: {}}
workbook:
  - {name: w, desc: d, tool: {kind: noop}, assert: {expects: []}, sink: {}}
workflow:
  - step: start
    desc: d
    when: "{{ true }}"
    input: {}
    args: {}
    vars: {}
    set: {}
    spec: {next_mode: exclusive, timeout: 5s, custom: 1}
    loop:
      in: [1]
      iterator: i
      mode: sequential
      max_in_flight: 1
      cursor: null
      spec: {mode: sequential, max_in_flight: 1, policy: {exec: local}, frame: {max_rows: 1}}
    tool:
      - name: a
        kind: python
        code: "result = 1"
        libs: {}
        set: {x: "{{ output }}"}
        spec:
          timeout: 3
          policy:
            mode: exclusive
            on_unmatched: continue
            rules:
              - expr: "{{ false }}"
                do: jump
                target: a
                set_vars: {}
              - when: "{{ false }}"
                then: {do: retry, attempts: 2, backoff: linear, delay: 1, set: {}, allow: true}
              - else:
                  then: {do: continue}
      - name: b
        kind: http
        url: http://x
        whatever_http_takes: {}
    next:
      spec: {mode: inclusive, on_no_match: quiet, policy: {}}
      arcs:
        - {step: end, when: "{{ true }}", set: {}, spec: {}, args: {}}
  - step: end
    next:
      - step: start
        when: "{{ false }}"
        with: {}
`;
    const { diagnostics } = parsePlaybook(text);
    expect(unknown(diagnostics)).toEqual([]);
  });

  it('--strict reports every warning as an error: no playbook', () => {
    const text = `${HEAD}workflow:
  - step: start
    tool: {kind: noop}
    nxt: end
  - step: end
`;
    const loose = parsePlaybook(text);
    expect(loose.playbook).toBeDefined();
    const strict = parsePlaybook(text, { strict: true });
    expect(strict.playbook).toBeUndefined();
    expect(strict.diagnostics.map((d) => [d.code, d.severity])).toContainEqual(['UNKNOWN_KEY', 'error']);
  });
});
