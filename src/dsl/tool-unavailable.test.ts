import { describe, expect, it } from 'vitest';
import { parsePlaybook } from './index.js';

const text = `apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: lake }
workflow:
  - step: start
    tool: { kind: ducklake, command: "select 1" }
`;

describe('a tool kind this build cannot run', () => {
  it('is a warning naming the kind and why, at its line:col; the playbook stays valid', () => {
    const { playbook, diagnostics } = parsePlaybook(text);
    expect(playbook).toBeDefined();
    const found = diagnostics.filter((d) => d.code === 'TOOL_UNAVAILABLE');
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ severity: 'warning', line: 6 });
    expect(found[0]!.message).toContain("'ducklake'");
    expect(found[0]!.message).toContain('extension');
  });

  it('is an error with strict', () => {
    const { playbook, diagnostics } = parsePlaybook(text, { strict: true });
    expect(playbook).toBeUndefined();
    expect(diagnostics.find((d) => d.code === 'TOOL_UNAVAILABLE')?.severity).toBe('error');
  });
});
