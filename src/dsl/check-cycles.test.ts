import { describe, expect, it } from 'vitest';
import { parsePlaybook } from './parse.js';

const head = 'apiVersion: noetl.io/v2\nkind: Playbook\nmetadata: { name: t, path: t }\n';

function cycleWarnings(workflow: string): string[] {
  const { playbook, diagnostics } = parsePlaybook(`${head}workflow:\n${workflow}`);
  expect(playbook).toBeDefined();
  return diagnostics.filter((d) => d.code === 'CYCLE_WITHOUT_EXIT').map((d) => `${d.path}: ${d.message}`);
}

describe('CYCLE_WITHOUT_EXIT', () => {
  it('warns about a step that always routes back to itself', () => {
    const warnings = cycleWarnings(`  - step: start
    tool: { kind: noop }
    next: [ spin ]
  - step: spin
    tool: { kind: noop }
    next: [ spin ]
`);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^workflow\[1\]\.next: steps 'spin' form a cycle without an exit/);
  });

  it('warns about a cycle of several steps whose arcs never stop it', () => {
    const warnings = cycleWarnings(`  - step: start
    tool: { kind: noop }
    next: [ a ]
  - step: a
    tool: { kind: noop }
    next: { spec: { mode: inclusive }, arcs: [ { step: b }, { step: done, when: "{{ a.ok }}" } ] }
  - step: b
    tool: { kind: noop }
    next: { arcs: [ { step: a, when: "{{ b.more }}" }, { step: a } ] }
  - step: done
    tool: { kind: noop }
`);
    expect(warnings).toEqual([expect.stringContaining("steps 'a', 'b' form a cycle without an exit")]);
  });

  it('accepts cycles with a way out', () => {
    for (const workflow of [
      // pagination: a conditional exit
      `  - step: start
    tool: { kind: noop }
    next: [ fetch ]
  - step: fetch
    tool: { kind: noop }
    next: { arcs: [ { step: end, when: "{{ not fetch.more }}" }, { step: fetch } ] }
  - step: end
    tool: { kind: noop }
`,
      // a back-edge whose condition becomes false ends the branch
      `  - step: start
    tool: { kind: noop }
    next: [ fetch ]
  - step: fetch
    tool: { kind: noop }
    next: { arcs: [ { step: fetch, when: "{{ fetch.more }}" } ] }
`,
      // exclusive: the first arc leaves, so the back arc is never taken
      `  - step: start
    tool: { kind: noop }
    next: [ a ]
  - step: a
    tool: { kind: noop }
    next: { arcs: [ { step: end }, { step: a } ] }
  - step: end
    tool: { kind: noop }
`,
      // router steps only: a cycle of them ends within one decision
      `  - step: start
    next: [ a ]
  - step: a
    next: [ b ]
  - step: b
    next: [ a ]
`,
    ]) {
      expect(cycleWarnings(workflow)).toEqual([]);
    }
  });
});
