import { describe, expect, it } from 'vitest';
import { checkPlaybookLimits, parsePlaybook, type Diagnostic } from './index.js';

/** The no-op chain of bench/local.mjs: `n` steps, each `next` to the following one. */
function chainYaml(n: number): string {
  const lines = ['apiVersion: noetl.io/v2', 'kind: Playbook', 'metadata: { name: chain }', 'workflow:'];
  for (let i = 0; i < n; i++) {
    const name = i === 0 ? 'start' : `s${i}`;
    lines.push(`  - step: ${name}`, '    tool: { kind: noop }');
    if (i < n - 1) lines.push(`    next: [ s${i + 1} ]`);
  }
  return lines.join('\n');
}

const HEAD = 'apiVersion: noetl.io/v2\nkind: Playbook\nmetadata: { name: t }\n';
const brief = (d: readonly Diagnostic[]) => d.map((x) => `${x.code}@${x.line}:${x.column}`);
const tooLarge = (d: readonly Diagnostic[]) => d.filter((x) => x.code === 'PLAYBOOK_TOO_LARGE');

describe('playbook size limits', () => {
  it('passes the 10,000-step chain of bench/local.mjs with the default limits', () => {
    const result = parsePlaybook(chainYaml(10_000));
    expect(tooLarge(result.diagnostics)).toEqual([]);
    expect(result.playbook?.workflow).toHaveLength(10_000);
  });

  it('refuses a step over the limit and points at that step', () => {
    const over = parsePlaybook(chainYaml(101), { limits: { maxSteps: 100 } });
    expect(over.playbook).toBeUndefined();
    // 4 header lines, then 3 lines a step: step 101 (index 100) starts on line 5 + 3 * 100.
    expect(brief(over.diagnostics)).toEqual(['PLAYBOOK_TOO_LARGE@305:5']);
    expect(over.diagnostics[0]).toMatchObject({ path: 'workflow[100]', severity: 'error' });
    expect(over.diagnostics[0]?.message).toMatch(/101 steps; the limit is 100 \(NOETL_PLAYBOOK_MAX_STEPS\)/);
    expect(parsePlaybook(chainYaml(100), { limits: { maxSteps: 100 } }).playbook).toBeDefined();
  });

  it('counts the steps of a flow list against the default limit of 50,000', () => {
    const text = `${HEAD}workflow: [${'{step: s}, '.repeat(50_001)}]\n`;
    const result = parsePlaybook(text);
    expect(tooLarge(result.diagnostics)).toHaveLength(1);
    expect(result.diagnostics).toHaveLength(1); // nothing else is checked
    expect(result.diagnostics[0]?.message).toContain('50,001 steps; the limit is 50,000');
  });

  it('refuses nesting past the depth limit without running out of stack', () => {
    const deep = 100_000;
    const flow = parsePlaybook(`${HEAD}workload:\n  x: ${'['.repeat(deep)}${']'.repeat(deep)}\n`);
    // Root map (1), workload (2), the first list (3): the 65th collection opens at column
    // 6 + (65 - 3) on line 5.
    expect(brief(flow.diagnostics)).toEqual(['PLAYBOOK_TOO_LARGE@5:68']);
    expect(flow.diagnostics[0]?.message).toContain('more than 64 levels deep (NOETL_PLAYBOOK_MAX_DEPTH)');

    let block = `${HEAD}workload:\n`;
    for (let i = 1; i <= 10; i++) block += `${'  '.repeat(i)}k${i}:\n`;
    block += `${'  '.repeat(11)}leaf: 1\n`;
    const result = parsePlaybook(block, { limits: { maxDepth: 8 } });
    // workload's map is level 2, so the map under k7 (line 12, indent 16) is level 9.
    expect(brief(result.diagnostics)).toEqual(['PLAYBOOK_TOO_LARGE@12:17']);
    expect(parsePlaybook(block, { limits: { maxDepth: 12 } }).diagnostics).not.toContainEqual(
      expect.objectContaining({ code: 'PLAYBOOK_TOO_LARGE' }),
    );
  });

  it('refuses text over the byte limit before parsing, counting UTF-8 bytes', () => {
    const big = `${HEAD}workload: { x: '${'a'.repeat(16 * 1024 * 1024)}' }\n`;
    expect(brief(parsePlaybook(big).diagnostics)).toEqual(['PLAYBOOK_TOO_LARGE@1:1']);
    // 400 euro signs: 400 UTF-16 units but 1,200 bytes.
    const euros = `${HEAD}workload: { x: '${'€'.repeat(400)}' }\n`;
    const result = parsePlaybook(euros, { limits: { maxBytes: 1024 } });
    expect(brief(result.diagnostics)).toEqual(['PLAYBOOK_TOO_LARGE@1:1']);
    expect(result.diagnostics[0]?.message).toContain('(NOETL_PLAYBOOK_MAX_BYTES)');
    expect(tooLarge(parsePlaybook(euros, { limits: { maxBytes: 2048 } }).diagnostics)).toEqual([]);
  });

  it('reports steps and depth together', () => {
    const text = `${HEAD}workload: { a: [[[[1]]]] }\nworkflow: [{step: start}, {step: b}, {step: c}]\n`;
    const over = checkPlaybookLimits(text, { maxSteps: 2, maxDepth: 4 });
    expect(brief(over)).toEqual(['PLAYBOOK_TOO_LARGE@5:38', 'PLAYBOOK_TOO_LARGE@4:18']);
    expect(checkPlaybookLimits(text)).toEqual([]);
  });

  it('checks what aliases expand to', () => {
    const steps = `${HEAD}x: &s [{step: start}, {step: b}, {step: c}]\nworkflow: *s\n`;
    const result = parsePlaybook(steps, { limits: { maxSteps: 2 } });
    expect(tooLarge(result.diagnostics)).toHaveLength(1);
    expect(result.diagnostics[0]?.message).toContain('3 steps once aliases are expanded');

    // Each anchor nests the previous one 10 levels deeper: the text is 13 levels deep at most,
    // the value 90.
    let nested = `${HEAD}workload:\n  a0: &a0 [1]\n`;
    for (let i = 1; i <= 8; i++) nested += `  a${i}: &a${i} ${'['.repeat(10)}*a${i - 1}${']'.repeat(10)}\n`;
    const deep = parsePlaybook(nested);
    expect(tooLarge(deep.diagnostics)).toHaveLength(1);
    expect(deep.diagnostics[0]?.message).toContain('once aliases are expanded');
  });

  it('still refuses an alias bomb (maxAliasCount)', () => {
    let bomb = `${HEAD}workload:\n  l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n`;
    for (let i = 1; i <= 9; i++)
      bomb += `  l${i}: &l${i} [${Array(10)
        .fill(`*l${i - 1}`)
        .join(', ')}]\n`;
    const result = parsePlaybook(bomb);
    expect(result.playbook).toBeUndefined();
    expect(result.diagnostics.map((d) => d.code)).toEqual(['YAML_SYNTAX']);
    expect(result.diagnostics[0]?.message).toMatch(/alias/i);
  });
});
