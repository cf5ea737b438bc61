import { describe, expect, it } from 'vitest';
import { drive } from '../../test/helpers/engine-driver.js';

/**
 * A fan-in target inside a workflow loop (NoETL's test_pft_flow_v2: `count` routes to
 * `validate` directly or through `fetch` -> `wait`). Each round `validate` waits for the other
 * upstream until the arc not taken makes it unreachable; in the second round it had completed
 * once already, and the recheck, which has no `from`, refused it as a re-entry: the execution
 * ended COMPLETED halfway, with `validate` still waiting.
 */
const PLAYBOOK = `apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: t, path: t }
workload: { round: 0 }
workflow:
  - step: start
    tool: { kind: noop }
    next: [ load ]
  - step: load
    tool: { kind: noop }
    next: [ count ]
  - step: count
    tool: { kind: noop }
    next:
      spec: { mode: exclusive }
      arcs:
        - { step: fetch, when: "{{ false }}" }
        - { step: validate, when: "{{ true }}" }
  - step: fetch
    tool: { kind: noop }
    next: [ wait ]
  - step: wait
    tool: { kind: noop }
    next:
      spec: { mode: exclusive }
      arcs:
        - { step: validate, when: "{{ true }}" }
        - { step: fetch, when: "{{ false }}" }
  - step: validate
    tool: { kind: noop }
    next: [ log ]
  - step: log
    tool: { kind: noop }
    set: { ctx.round: "{{ round + 1 }}" }
    next:
      spec: { mode: exclusive }
      arcs:
        - { step: load, when: "{{ round < 3 }}" }
        - { step: end, when: "{{ round >= 3 }}" }
  - step: end
    tool: { kind: noop }
`;

describe('a fan-in target in a workflow loop', () => {
  it('is entered again in every round once its other upstream cannot come', () => {
    const { state } = drive(PLAYBOOK, () => ({ ok: true, data: null }));
    expect(state.status).toBe('COMPLETED');
    expect(state.executed.filter((s) => s === 'validate')).toHaveLength(3);
    expect(state.executed.at(-1)).toBe('end');
    expect(state.waiting.size).toBe(0);
  });
});
