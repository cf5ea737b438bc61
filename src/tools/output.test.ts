import { describe, expect, it } from 'vitest';
import type { ToolSpec } from '../dsl/index.js';
import { templates } from '../template/index.js';
import { OutputCollector, type OutputLine } from './output.js';
import { runTasks } from './pipeline.js';
import { defaultRegistry } from './registry.js';
import type { ToolResult, ToolServices } from './types.js';

function run(tool: Record<string, unknown>, services: ToolServices = {}): Promise<ToolResult> {
  const { kind, ...config } = tool;
  const spec: ToolSpec = { shape: 'single', tasks: [{ label: 'x', kind: String(kind), config }] };
  return runTasks(
    { spec, scope: {}, executionId: 'e1', step: 'step1', commandId: 'c1' },
    { registry: defaultRegistry(), services, templates: templates(), signal: new AbortController().signal },
  );
}

const texts = (r: ToolResult): string[] => (r.output?.lines ?? []).map((l) => `${l.stream}:${l.text}`);

describe('OutputCollector', () => {
  it('splits chunks into timestamped lines per stream, across chunk and UTF-8 boundaries', () => {
    let now = Date.parse('2026-01-02T03:04:05.000Z');
    const c = new OutputCollector(1024, undefined, () => now);
    const euro = Buffer.from('€');
    c.write('stdout', Buffer.concat([Buffer.from('a\nb'), euro.subarray(0, 1)]));
    now += 1000;
    c.write('stderr', 'oops\n');
    c.write('stdout', Buffer.concat([euro.subarray(1), Buffer.from('c\n')]));
    expect(c.end()).toEqual({
      lines: [
        { ts: '2026-01-02T03:04:05.000Z', stream: 'stdout', text: 'a' },
        { ts: '2026-01-02T03:04:06.000Z', stream: 'stderr', text: 'oops' },
        { ts: '2026-01-02T03:04:06.000Z', stream: 'stdout', text: 'b€c' },
      ],
    });
  });

  it('keeps the tail within the bound and says what was cut', () => {
    const c = new OutputCollector(20); // each line is 7 bytes with its newline
    for (let i = 0; i < 10; i++) c.write('stdout', `line ${i}\n`);
    const out = c.end();
    expect(out?.lines.map((l) => l.text)).toEqual(['line 8', 'line 9']);
    expect(out?.truncated).toEqual({ lines: 8, bytes: 56 });
  });

  it('returns nothing for a silent step', () => {
    expect(new OutputCollector().end()).toBeUndefined();
  });

  it('neither keeps nor streams the empty line before a hidden marker, even when they arrive apart', () => {
    const streamed: string[] = [];
    const c = new OutputCollector(1024, (l) => streamed.push(l.text));
    c.hideLines((t) => t === '@@marker@@');
    c.write('stdout', 'rows\n\n'); // the wrapper's newline arrives before its marker
    c.write('stdout', '@@marker@@\n');
    c.write('stderr', 'a\n\nb\n\n'); // empty lines of the user's own are kept, in order
    expect(streamed).toEqual(['rows', 'a', '', 'b']);
    expect(c.end()?.lines.map((l) => `${l.stream}:${l.text}`)).toEqual([
      'stdout:rows',
      'stderr:a',
      'stderr:',
      'stderr:b',
      'stderr:',
    ]);
  });
});

describe('step output through runTasks', () => {
  it('keeps a shell step’s stdout and stderr as lines, and streams them to onOutput', async () => {
    const seen: Array<[string, OutputLine]> = [];
    const r = await run(
      { kind: 'shell', cmds: ['echo one; echo two >&2', 'echo three'] },
      { onOutput: (line, where) => seen.push([where.step, line]) },
    );
    expect(texts(r)).toEqual(['stdout:one', 'stderr:two', 'stdout:three']);
    expect(r.output?.lines[0]?.ts).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(seen.map(([step, l]) => `${step}:${l.text}`)).toEqual(['step1:one', 'step1:two', 'step1:three']);
  });

  it('keeps a python step’s prints and traceback, without the result marker line', async () => {
    const ok = await run({ kind: 'python', code: 'print("hello")\nresult = 1' });
    expect(ok.data).toBe(1);
    expect(texts(ok)).toEqual(['stdout:hello']);
    const failed = await run({ kind: 'python', code: 'print("before")\nx = 1\ny = undefined_name' });
    expect(failed.status).toBe('error');
    const lines = texts(failed);
    expect(lines[0]).toBe('stdout:before');
    expect(lines).toContain("stderr:NameError: name 'undefined_name' is not defined");
    expect(lines.some((l) => l.includes('@@__NOETL_RESULT__@@'))).toBe(false);
  });

  it('bounds the output per step (tail kept) and adds nothing for a silent step', async () => {
    const r = await run({ kind: 'shell', command: 'seq 1 1000' }, { outputMaxBytes: 100 });
    const lines = r.output?.lines ?? [];
    expect(lines[lines.length - 1]?.text).toBe('1000');
    expect(lines.reduce((n, l) => n + l.text.length + 1, 0)).toBeLessThanOrEqual(100);
    expect(r.output?.truncated?.lines).toBe(1000 - lines.length);
    const silent = await run({ kind: 'shell', command: 'true' });
    expect(silent.output).toBeUndefined();
    expect('output' in silent).toBe(false);
  });
});
