import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { templates } from '../../template/index.js';
import { OutputCollector, type OutputLine } from '../output.js';
import type { ToolContext, ToolServices } from '../types.js';
import { executePython } from './execute.js';
import { PythonPool, type PythonPoolOptions } from './pool.js';

const pools: PythonPool[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const p of pools.splice(0)) await p.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function newPool(options: Partial<PythonPoolOptions> = {}): PythonPool {
  const pool = new PythonPool({ size: 1, ...options });
  pools.push(pool);
  return pool;
}

function ctx(pool: PythonPool, executionId: string, extra: Partial<ToolContext> = {}): ToolContext {
  const services: ToolServices = { pythonPool: pool };
  return {
    executionId,
    step: 'py',
    commandId: `c-${executionId}`,
    label: 'py',
    attempt: 1,
    signal: new AbortController().signal,
    templates: templates(),
    services,
    ...extra,
  };
}

const PID = 'import os\nresult = os.getpid()';

async function pidOf(pool: PythonPool, executionId = 'probe'): Promise<number> {
  return (await executePython(ctx(pool, executionId), { code: PID })).data as number;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('python pool', () => {
  it('runs steps of different executions on one warm interpreter', async () => {
    const pool = newPool();
    const first = await pidOf(pool, 'e1');
    const second = await pidOf(pool, 'e2');
    expect(second).toBe(first);
    expect(pool.live).toBe(1);
    expect(pool.pids()).toEqual([first]);
  });

  it('resets everything one execution set before the next runs', async () => {
    const pool = newPool();
    const dir = realpathSync(mkdtempSync(join(tmpdir(), 'noetl-pool-')));
    dirs.push(dir);
    const setter = [
      'import os, sys, json, builtins, base64, signal',
      'SECRET_GLOBAL = "s3cret-global"',
      'json.secret = "s3cret-json"',
      'base64.secret = "s3cret-user-module"',
      'builtins.secret = "s3cret-builtin"',
      'sys.modules["__main__"].secret = "s3cret-main"',
      'os.environ["NOETL_POOL_SECRET"] = "s3cret-env"',
      'os.chdir(' + JSON.stringify(dir) + ')',
      'sys.path.insert(0, "/s3cret-path")',
      'json.dumps = lambda *a, **k: "hijacked"',
      'signal.signal(signal.SIGUSR1, lambda *a: None)',
      'os.umask(0o077)',
      'import warnings',
      'warnings.simplefilter("error")',
      'result = os.getpid()',
    ].join('\n');
    const reader = [
      'import os, sys, json, builtins, base64, signal',
      'result = {',
      '  "pid": os.getpid(),',
      '  "global": "SECRET_GLOBAL" in globals(),',
      '  "json": getattr(json, "secret", None),',
      '  "user_module": getattr(base64, "secret", None),',
      '  "builtin": getattr(builtins, "secret", None),',
      '  "main": getattr(sys.modules["__main__"], "secret", None),',
      '  "env": os.environ.get("NOETL_POOL_SECRET"),',
      '  "cwd": os.getcwd(),',
      '  "path": "/s3cret-path" in sys.path,',
      '  "dumps": json.dumps([1]),',
      '  "signal": signal.getsignal(signal.SIGUSR1) == signal.SIG_DFL,',
      '  "umask": os.umask(0o022),',
      '  "warnings": [f[0] for f in __import__("warnings").filters][:1],',
      '}',
    ].join('\n');
    const before = (await executePython(ctx(pool, 'e0'), { code: reader })).data as Record<string, unknown>;
    const setterPid = (await executePython(ctx(pool, 'e1'), { code: setter })).data;
    const after = (await executePython(ctx(pool, 'e2'), { code: reader })).data as Record<string, unknown>;
    expect(after.pid).toBe(setterPid); // the same interpreter, reset
    expect(after).toEqual(before);
    expect(after).toMatchObject({
      global: false,
      json: null,
      user_module: null,
      builtin: null,
      main: null,
      env: null,
      cwd: process.cwd(),
      path: false,
      dumps: '[1]',
      signal: true,
    });
  });

  it('kills a runaway step on timeout and replaces its interpreter', async () => {
    const pool = newPool();
    const before = await pidOf(pool);
    const started = Date.now();
    const err = await executePython(ctx(pool, 'e1'), {
      code: 'print("going", flush=True)\nimport time\ntime.sleep(30)',
      timeout_seconds: 0.3,
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'TOOL_TIMEOUT',
      retryable: true,
      message: 'python: timed out after 0.3s',
      details: { timeout_seconds: 0.3, data: { stdout: 'going\n', stderr: '' } },
    });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(alive(before)).toBe(false);
    const after = await pidOf(pool);
    expect(after).not.toBe(before);
  });

  it('ends a cancelled step with CANCELLED and kills its interpreter', async () => {
    const pool = newPool();
    const before = await pidOf(pool);
    const ac = new AbortController();
    const run = executePython(ctx(pool, 'e1', { signal: ac.signal }), {
      code: 'import time\ntime.sleep(30)',
    });
    setTimeout(() => ac.abort(), 100);
    await expect(run).rejects.toMatchObject({ code: 'CANCELLED', message: 'python: cancelled' });
    expect(alive(before)).toBe(false);
  });

  it('reports a crash as the process would and starts a new interpreter', async () => {
    const pool = newPool();
    const before = await pidOf(pool);
    await expect(
      executePython(ctx(pool, 'e1'), { code: 'import os, sys\nsys.stderr.write("dying\\n")\nos._exit(3)' }),
    ).rejects.toMatchObject({
      code: 'TOOL_FAILED',
      message: 'python: process exited with code 3 without a result: dying',
    });
    const after = await pidOf(pool);
    expect(after).not.toBe(before);
    expect(alive(before)).toBe(false);
  });

  it('replaces an interpreter after maxRuns runs and past maxRssBytes', async () => {
    const pool = newPool({ maxRuns: 2 });
    const a = await pidOf(pool);
    expect(await pidOf(pool)).toBe(a);
    const c = await pidOf(pool);
    expect(c).not.toBe(a);
    const small = newPool({ maxRssBytes: 1 });
    const x = await pidOf(small);
    expect(await pidOf(small)).not.toBe(x);
  });

  it('replaces an interpreter a step left a thread, a child process or a C extension in', async () => {
    const pool = newPool();
    for (const code of [
      'import threading, time\nthreading.Thread(target=time.sleep, args=(30,), daemon=True).start()',
      'import subprocess\nsubprocess.Popen(["sleep", "30"])',
      'import sys, types\nm = types.ModuleType("fake_ext")\nm.__file__ = "/opt/x/fake_ext.cpython-311-x86_64-linux-gnu.so"\nsys.modules["fake_ext"] = m',
    ]) {
      const before = await pidOf(pool);
      await executePython(ctx(pool, 'e1'), { code });
      expect(await pidOf(pool), code).not.toBe(before);
    }
    // A finished thread or subprocess, or a standard-library module, leaves it in service.
    const before = await pidOf(pool);
    await executePython(ctx(pool, 'e1'), {
      code: 'import threading, subprocess, datetime, decimal\nt = threading.Thread(target=print)\nt.start()\nt.join()\nsubprocess.run(["true"])',
    });
    expect(await pidOf(pool)).toBe(before);
  });

  it('keeps libs loaded for steps with the same libs; other libs take another interpreter', async () => {
    const pool = newPool({ size: 2 });
    const code = 'import os, sys\nresult = [os.getpid(), "fractions" in sys.modules]';
    const a = (await executePython(ctx(pool, 'e1'), { code, libs: { fr: 'fractions' } })).data as unknown[];
    const b = (await executePython(ctx(pool, 'e2'), { code, libs: { f: 'fractions' } })).data as unknown[];
    expect(b).toEqual([a[0], true]);
    // A step without libs may use it; a step with libs it lacks takes a fresh interpreter.
    const c = (await executePython(ctx(pool, 'e3'), { code, libs: { st: 'statistics' } })).data as unknown[];
    expect(c[0]).not.toBe(a[0]);
    // Modules a step imports itself are gone for the next one.
    const seen = 'import os, sys\nresult = [os.getpid(), "colorsys" in sys.modules]';
    await executePython(ctx(pool, 'e4'), { code: 'import colorsys', libs: { st: 'statistics' } });
    const d = (await executePython(ctx(pool, 'e5'), { code: seen, libs: { st: 'statistics' } })).data;
    expect(d).toEqual([c[0], false]);
  });

  it('shares interpreters only between steps with the same environment', async () => {
    const pool = newPool({ size: 2 });
    const a = await pidOf(pool);
    const b = (await executePython(ctx(pool, 'e1'), { code: PID, env: { NOETL_X: 'secret' } })).data;
    expect(b).not.toBe(a);
    expect(await pidOf(pool)).toBe(a);
  });

  it('runs a step in a process of its own when every interpreter is busy', async () => {
    const pool = newPool({ size: 1 });
    const slow = executePython(ctx(pool, 'e1'), {
      code: 'import os, time\ntime.sleep(0.5)\nresult = os.getpid()',
    });
    const quick = await pidOf(pool);
    expect(pool.pids()).not.toContain(quick);
    expect(pool.pids()).toContain((await slow).data);
  });

  it('streams output as it is printed and keeps stdout and stderr apart', async () => {
    const pool = newPool();
    const lines: OutputLine[] = [];
    const output = new OutputCollector(1 << 20, (line) => lines.push(line));
    const code = [
      'import sys, time',
      'print("first", flush=True)',
      'deadline = time.time() + 10',
      'while not __import__("os").path.exists(flag) and time.time() < deadline:',
      '    time.sleep(0.01)',
      'sys.stderr.write("err-no-newline")',
      'print("x" * 100000)',
      'print("last", end="")',
      'result = 1',
    ].join('\n');
    const dir = mkdtempSync(join(tmpdir(), 'noetl-pool-'));
    dirs.push(dir);
    const flag = join(dir, 'go');
    const run = executePython(ctx(pool, 'e1', { output }), { code, input: { flag } });
    while (lines.length === 0) await new Promise((r) => setTimeout(r, 10));
    expect(lines[0]).toMatchObject({ stream: 'stdout', text: 'first' });
    writeFileSync(flag, '');
    const out = await run;
    expect(out.stdout).toBe(`first\n${'x'.repeat(100000)}\nlast`);
    expect(out.stderr).toBe('err-no-newline');
    const kept = output.end();
    expect(kept?.lines.map((l) => l.text)).toEqual(['first', 'x'.repeat(100000), 'last', 'err-no-newline']);
  });

  it('close() kills every interpreter; the pool then runs nothing', async () => {
    const pool = newPool({ size: 2 });
    const pid = await pidOf(pool);
    await pool.close();
    expect(alive(pid)).toBe(false);
    expect(pool.live).toBe(0);
    const out = await executePython(ctx(pool, 'e1'), { code: PID });
    expect(out.data).not.toBe(pid);
    expect(pool.live).toBe(0);
  });
});
