// `noetl tui` driven in a real terminal: tmux runs it in an 80x24 pane against an embedded
// server; keys go in with `send-keys`, the screen comes back with `capture-pane`.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useColour } from '../../src/cli/tui/action.js';
import { executionLine, ExecutionModel, fit } from '../../src/cli/tui/model.js';
import type { EventView } from '../../src/client/index.js';
import { BIN } from '../helpers/cli.js';
import { startTestServer, type RunningServer } from '../helpers/embedded-server.js';

const CI = process.env['CI'] === 'true' || process.env['CI'] === '1';
const HAS_TMUX = spawnSync('tmux', ['-V']).status === 0;
if (!HAS_TMUX && CI) throw new Error('tmux is needed for the noetl tui test in CI');
if (!HAS_TMUX) console.warn('tui.test.ts: tmux is not installed, the terminal tests are skipped');

const SLOW = `apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: slow, path: tui/slow }
workflow:
  - step: start
    tool: { kind: shell, command: "echo starting; sleep 2; echo done" }
    next: [ finish ]
  - step: finish
    tool: { kind: python, code: "print('finished')\\nresult = 1" }
`;
const BROKEN = `apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: broken, path: tui/broken }
workflow:
  - step: start
    tool: { kind: python, code: "print('about to fail')\\nx = 1\\ny = undefined_name + x\\nresult = y" }
`;
const LONG = `apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: long, path: tui/long }
workflow:
  - step: start
    tool: { kind: shell, command: "echo waiting; sleep 30" }
`;

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** A tmux session of its own socket (never the user's server), 80x24. */
class Pane {
  private readonly socket: string;
  constructor(readonly dir: string) {
    this.socket = join(dir, 'tmux.sock');
  }
  private tmux(...args: string[]): string {
    return execFileSync('tmux', ['-S', this.socket, ...args], { encoding: 'utf8' });
  }
  start(env: Record<string, string>, command: string): void {
    const vars = Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
    this.tmux('new-session', '-d', '-s', 'tui', '-x', '80', '-y', '24', ...vars, command);
  }
  screen(escapes = false): string {
    return this.tmux('capture-pane', '-p', ...(escapes ? ['-e'] : []), '-t', 'tui');
  }
  /** One key at a time: ink reads a chunk of several keys as one input. */
  async keys(...keys: string[]): Promise<void> {
    for (const k of keys) {
      this.tmux('send-keys', '-t', 'tui', k);
      await sleep(k === 'Escape' ? 700 : 250);
    }
  }
  async waitFor(what: RegExp, timeoutMs = 20_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const text = this.screen();
      if (what.test(text)) return text;
      if (Date.now() > deadline) throw new Error(`screen never showed ${what}:\n${text}`);
      await sleep(150);
    }
  }
  kill(): void {
    spawnSync('tmux', ['-S', this.socket, 'kill-server']);
  }
}

describe('noetl tui model', () => {
  it('fits list lines to the width and folds step output and errors', () => {
    expect(fit('abcdef', 4)).toBe('abc…');
    expect(fit('ab', 4)).toBe('ab  ');
    const line = executionLine(
      { execution_id: '1', status: 'RUNNING', path: 'a/very/long/path/'.repeat(5), started_at: null },
      79,
      0,
    );
    expect(line).toHaveLength(79);
    const m = new ExecutionModel();
    const ev = (event_type: string, extra: Partial<EventView> = {}): EventView => ({
      event_id: String(Math.random()),
      event_type,
      node_name: 'start',
      status: 'x',
      created_at: '2026-01-01T00:00:00.000Z',
      ...extra,
    });
    m.add(ev('step.enter'));
    m.add(
      ev('call.error', {
        result: {
          context: {
            error: {
              code: 'TOOL_FAILED',
              message: 'boom',
              details: { traceback: 'Traceback (x)\nValueError' },
            },
            result: { context: { output: { lines: [{ ts: 't', stream: 'stdout', text: 'hi' }] } } },
          },
        },
      }),
    );
    m.add(ev('command.failed'));
    expect(m.stepRows().map((r) => r.status)).toEqual(['FAILED']);
    expect(m.stepText('start')).toEqual([
      'error TOOL_FAILED: boom',
      'Traceback (x)',
      'ValueError',
      '',
      '| hi',
    ]);
  });

  it('uses colour only on a terminal without NO_COLOR', () => {
    expect(useColour({}, true)).toBe(true);
    expect(useColour({ NO_COLOR: '1' }, true)).toBe(false);
    expect(useColour({}, false)).toBe(false);
    expect(useColour({ TERM: 'dumb' }, true)).toBe(false);
  });

  it('refuses to run without a terminal: one line, exit 2', () => {
    const r = spawnSync(process.execPath, [BIN, 'tui'], {
      encoding: 'utf8',
      input: '',
      env: { ...process.env, NOETL_SERVER_URL: 'http://127.0.0.1:9' },
    });
    expect(r.status).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe('error[USAGE]: noetl tui needs a terminal (stdin is not a TTY)');
  });

  it('is not loaded by other commands (ink stays out of `noetl cancel --help`)', () => {
    const hook = `data:text/javascript,${encodeURIComponent(
      `import { register } from 'node:module';
register('data:text/javascript,' + encodeURIComponent(
  'export async function resolve(s, c, next) { if (/^(ink|react)$/.test(s)) process.stderr.write("LOADED " + s + "\\\\n"); return next(s, c); }'));`,
    )}`;
    for (const args of [['--version'], ['cancel', '--help'], ['tui', '--help']]) {
      const r = spawnSync(process.execPath, ['--import', hook, BIN, ...args], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).not.toContain('LOADED');
    }
    // The hook does see ink when the UI module is loaded.
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        hook,
        '-e',
        `await import(${JSON.stringify(new URL('../../dist/cli/tui/app.js', import.meta.url).href)})`,
      ],
      { encoding: 'utf8', input: '' },
    );
    expect(r.stderr).toContain('LOADED ink');
  });
});

describe.skipIf(!HAS_TMUX)('noetl tui in tmux (80x24)', () => {
  let server: RunningServer;
  let dir: string;
  let pane: Pane;
  let slowId: string;
  let brokenId: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'noetl-tui-'));
    server = await startTestServer();
    for (const yaml of [SLOW, BROKEN, LONG]) await server.register(yaml);
    const start = async (path: string) =>
      (await server.post<{ execution_id: string }>('/api/execute', { path, payload: {} })).body.execution_id;
    brokenId = await start('tui/broken');
    await server.waitFor(brokenId);
    slowId = await start('tui/slow');
    pane = new Pane(dir);
    pane.start(
      { NOETL_SERVER_URL: server.url, NOETL_HOME: server.home, NO_COLOR: '1', TERM: 'xterm-256color' },
      `${process.execPath} ${BIN} tui; echo EXIT=$?; sleep 60`,
    );
  }, 60_000);

  afterAll(async () => {
    pane?.kill();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows a running execution becoming COMPLETED', async () => {
    const running = await pane.waitFor(new RegExp(`${slowId} +RUNNING`));
    expect(running.split('\n').length).toBeLessThanOrEqual(25);
    expect(running).toContain('Executions  status: all');
    expect(running).toMatch(new RegExp(`${brokenId} +FAILED .* tui/broken`));
    const done = await pane.waitFor(new RegExp(`${slowId} +COMPLETED`));
    // 80 columns at most, no colour escapes with NO_COLOR.
    for (const l of done.split('\n')) expect([...l].length).toBeLessThanOrEqual(80);
    // eslint-disable-next-line no-control-regex
    expect(pane.screen(true)).not.toMatch(/\x1b\[(3\d|4\d|7)m/);
    writeFileSync(join(dir, 'list.txt'), done);
  }, 40_000);

  it('opens a failed step’s traceback', async () => {
    // The list is newest first: slow, then broken.
    await pane.keys('j', 'Enter');
    await pane.waitFor(/Execution \d+ +FAILED +tui\/broken/);
    // the execution's error under the header, once it is known to have ended
    const detail = await pane.waitFor(/^ error: step 'start' failed: NameError/m);
    expect(detail).toMatch(/>✗ start +FAILED/);
    await pane.keys('Enter');
    const step = await pane.waitFor(/Step start +FAILED/);
    expect(step).toContain("error TOOL_FAILED: NameError: name 'undefined_name' is not defined");
    expect(step).toContain('| about to fail');
    expect(step).toContain('! Traceback (most recent call last):');
    expect(step).toContain('!   File "<start>", line 3, in <module>');
    expect(step).toContain('!     y = undefined_name + x');
    if (process.env['NOETL_TUI_SCREEN']) writeFileSync(process.env['NOETL_TUI_SCREEN'], step);
    await pane.keys('Escape', 'Escape');
    await pane.waitFor(/Executions {2}status: all/);
  }, 30_000);

  it('shows a running step’s output live, cancels it, filters by status, lists the catalog and pools, quits on q', async () => {
    const longId = (
      await server.post<{ execution_id: string }>('/api/execute', { path: 'tui/long', payload: {} })
    ).body.execution_id;
    await pane.waitFor(new RegExp(`>${longId} +RUNNING`));
    await pane.keys('Enter');
    await pane.waitFor(/>… start +RUNNING/);
    await pane.keys('Enter');
    // The worker sends the line while the step runs (a chunk), long before it ends.
    const live = await pane.waitFor(/\| waiting/, 10_000);
    expect(live).toMatch(/Step start +RUNNING/);
    await pane.keys('Escape', 'c');
    await pane.waitFor(new RegExp(`cancelled ${longId}`));
    await pane.waitFor(new RegExp(`Execution ${longId} +CANCELLED`));
    await pane.keys('Escape');
    await pane.waitFor(new RegExp(`>${longId} +CANCELLED`));
    expect((await server.waitFor(longId))['status']).toBe('CANCELLED');
    await pane.keys('s', 's', 's');
    const failed = await pane.waitFor(/status: FAILED/);
    expect(failed).toContain(brokenId);
    expect(failed).not.toContain(slowId);
    await pane.keys('?');
    await pane.waitFor(/q +quit/);
    await pane.keys('x', '2');
    const catalog = await pane.waitFor(/Catalog: playbooks/);
    expect(catalog).toMatch(/tui\/long[\s\S]*tui\/broken[\s\S]*tui\/slow/);
    await pane.keys('3');
    await pane.waitFor(/Worker pools[\s\S]*embedded-/);
    await pane.keys('q');
    await pane.waitFor(/EXIT=0/);
  }, 40_000);
});
