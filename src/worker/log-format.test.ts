import { describe, expect, it } from 'vitest';
import { loadServerConfig, loadWorkerConfig } from '../config/index.js';
import { createServerLogger } from '../server/index.js';
import { isPretty, prettyLogLine } from './log-format.js';

function collect(): { lines: string[]; write(line: string): void } {
  const lines: string[] = [];
  return { lines, write: (line: string) => void lines.push(line) };
}

describe('NOETL_LOG_FORMAT', () => {
  it('is read by server and worker: auto by default, pretty or json, anything else refused', () => {
    expect(loadServerConfig({ env: {} }).logFormat).toBe('auto');
    expect(loadServerConfig({ env: { NOETL_LOG_FORMAT: 'pretty' } }).logFormat).toBe('pretty');
    expect(loadWorkerConfig({ env: { NOETL_LOG_FORMAT: 'json' } }).logFormat).toBe('json');
    expect(() => loadServerConfig({ env: { NOETL_LOG_FORMAT: 'xml' } })).toThrow(/NOETL_LOG_FORMAT/);
  });

  it('auto is JSON lines unless the output is a terminal', () => {
    expect(isPretty('auto', false)).toBe(false);
    expect(isPretty('auto', true)).toBe(true);
    expect(isPretty('json', true)).toBe(false);
    expect(isPretty('pretty', false)).toBe(true);
  });

  it('json: one object a line with execution_id, step and command_id of a child logger', () => {
    const out = collect();
    const log = createServerLogger({ level: 'info', destination: out, format: 'json' });
    log.child({ execution_id: '42', step: 'fetch', command_id: '42:fetch:7' }).info({ ms: 3 }, 'done');
    expect(out.lines).toHaveLength(1);
    expect(JSON.parse(out.lines[0]!) as unknown).toMatchObject({
      level: 'info',
      msg: 'done',
      execution_id: '42',
      step: 'fetch',
      command_id: '42:fetch:7',
      ms: 3,
    });
  });

  it('pretty: a readable line, context first, secrets still redacted', () => {
    const out = collect();
    const log = createServerLogger({ level: 'info', destination: out, format: 'pretty', name: 'srv' });
    log
      .child({ command_id: '42:fetch:7', step: 'fetch', execution_id: '42' })
      .warn({ token: 'sekret', note: 'two words' }, 'slow');
    expect(out.lines).toHaveLength(1);
    const line = out.lines[0]!;
    expect(line).toMatch(
      /^\d\d:\d\d:\d\d\.\d{3} WARN {2}srv: slow execution_id=42 step=fetch command_id=42:fetch:7 /,
    );
    expect(line).toContain('note="two words"');
    expect(line).toContain('token=***');
    expect(line).not.toContain('sekret');
    expect(() => void JSON.parse(line)).toThrow();
  });

  it('a line that is not JSON passes through unchanged', () => {
    expect(prettyLogLine('plain text\n')).toBe('plain text\n');
  });
});
