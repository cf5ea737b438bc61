import { describe, expect, it } from 'vitest';
import { parsePlaybook, type Diagnostic } from './index.js';

const HEAD = 'apiVersion: noetl.io/v2\nkind: Playbook\nmetadata:\n  name: t\n';
const filters = (d: readonly Diagnostic[]) =>
  d
    .filter((x) => x.code === 'UNKNOWN_FILTER')
    .map((x) => `${x.severity} ${x.line}:${x.column} ${x.path} ${x.message}`);

describe('unknown filters', () => {
  it('warns of a filter the engine lacks, in a tool setting and a condition, at line:col', () => {
    const text = `${HEAD}workflow:
  - step: start
    tool:
      kind: shell
      command: "echo {{ workload.name | uper }}"
    next:
      - step: end
        when: "{{ output.data | nosuchthing | length > 0 }}"
  - step: end
    tool: {kind: noop}
`;
    const { playbook, diagnostics } = parsePlaybook(text);
    expect(playbook).toBeDefined();
    expect(filters(diagnostics)).toEqual([
      expect.stringMatching(
        /^warning 9:7 workflow\[0\]\.tool\.command unknown filter 'uper' \(did you mean 'upper'\?\)/,
      ),
      expect.stringMatching(
        /^warning 12:9 workflow\[0\]\.next(\.arcs)?\[0\]\.when unknown filter 'nosuchthing':/,
      ),
    ]);
  });

  it("accepts minijinja's filters, the Jinja2 ones we add, and `|` inside strings", () => {
    const text = `${HEAD}workflow:
  - step: start
    tool:
      kind: shell
      command: >-
        echo {{ workload.items | map('upper') | join('|') | default('a | b') }}
        {{ workload.raw | fromjson | tojson }} {{ workload.n | int | abs }}
        {% for k in workload.m | dictsort %}{{ k | first }}{% endfor %}
`;
    expect(filters(parsePlaybook(text).diagnostics)).toEqual([]);
  });
});
