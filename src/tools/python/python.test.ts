import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { templates } from '../../template/index.js';
import type { ToolContext, ToolServices } from '../types.js';
import { executePython, splitMarker } from './execute.js';
import { PythonPool } from './pool.js';

/** The pool of the mode under test (undefined: a process per step, NOETL_PYTHON_POOL=0). */
let pool: PythonPool | undefined;

function ctx(given: ToolServices = {}, signal = new AbortController().signal): ToolContext {
  const services = pool ? { pythonPool: pool, ...given } : given;
  return {
    executionId: 'e1',
    step: 'py',
    commandId: 'c1',
    label: 'py',
    attempt: 1,
    signal,
    templates: templates(),
    services,
  };
}

describe.each(['process per step', 'warm pool'])('python tool (%s)', (mode) => {
  beforeAll(() => {
    pool = mode === 'warm pool' ? new PythonPool({ size: 2 }) : undefined;
  });
  afterAll(async () => {
    await pool?.close();
    pool = undefined;
  });

  it('returns `result` and strips the marker from stdout', async () => {
    const out = await executePython(ctx(), { code: 'print("hi")\nresult = {"y": x * 2}', input: { x: 21 } });
    expect(out.data).toEqual({ y: 42 });
    expect(out.stdout).toBe('hi\n');
    expect(out.exit_code).toBe(0);
  });

  it('calls main() with the args it accepts', async () => {
    const code = 'def main(a, b=2, input_data=None):\n    return {"sum": a + b, "keys": sorted(input_data)}';
    const out = await executePython(ctx(), { code, input: { a: 1, b: 5, c: 9 } });
    expect(out.data).toEqual({ sum: 6, keys: ['a', 'b', 'c'] });
    const kw = await executePython(ctx(), { code: 'def main(**kw):\n    return kw', args: { p: 1, q: 'x' } });
    expect(kw.data).toEqual({ p: 1, q: 'x' });
  });

  it('supports a top-level return, detected with ast', async () => {
    const code = [
      'result = num * 2',
      'if num > 100:',
      '    return "big"',
      'return {"number": num, "doubled": result}',
    ].join('\n');
    expect((await executePython(ctx(), { code, input: { num: 3 } })).data).toEqual({ number: 3, doubled: 6 });
    expect((await executePython(ctx(), { code, input: { num: 300 } })).data).toBe('big');
    // "return" only inside a def is not a top-level return.
    const inner = 'def f():\n    return 1\nresult = f() + 1';
    expect((await executePython(ctx(), { code: inner })).data).toBe(2);
    // Inputs can be reassigned in a function body.
    const reassign = 'count = count + 1\nif count > 1:\n    return count';
    expect((await executePython(ctx(), { code: reassign, input: { count: 1 } })).data).toBe(2);
    // A string containing "return" does not count either.
    expect((await executePython(ctx(), { code: 'result = "return 5"' })).data).toBe('return 5');
  });

  it('binds input as globals and as input_data, plus a context global', async () => {
    const code = [
      'result = {',
      '  "g": message,',
      '  "d": input_data["message"],',
      '  "ctx": [context["execution_id"], context["step"], context["args"]["message"]],',
      '}',
    ].join('\n');
    const out = await executePython(ctx(), { code, input: { message: 'hello' } });
    expect(out.data).toEqual({ g: 'hello', d: 'hello', ctx: ['e1', 'py', 'hello'] });
    // An input key named input_data wins over the generated dict.
    const nested = await executePython(ctx(), {
      code: 'result = input_data.get("t")',
      input: { input_data: { t: 'tbl' } },
    });
    expect(nested.data).toBe('tbl');
  });

  it('imports libs under their aliases', async () => {
    const out = await executePython(ctx(), {
      code: 'result = [m.sqrt(16), pth.basename("/a/b.txt")]',
      libs: { m: 'math', pth: 'os.path' },
    });
    expect(out.data).toEqual([4, 'b.txt']);
  });

  it('imports libs given as {from, import}; a libs list is a warning and the code runs', async () => {
    const out = await executePython(ctx(), {
      code: 'result = [od(a=1)["a"], j(["x"]), pth.sep]',
      libs: {
        od: { from: 'collections', import: 'OrderedDict' },
        j: { from: 'json', import: 'dumps' },
        pth: { from: 'os', import: 'path' },
      },
    });
    expect(out.data).toEqual([1, '["x"]', '/']);
    const listed = await executePython(ctx(), { code: 'result = 2', libs: ['psycopg2-binary'] });
    expect(listed.data).toBe(2);
    expect(listed.stderr).toContain("python 'libs' must map an alias to a module (got list); ignored");
    await expect(
      executePython(ctx(), { code: 'x', libs: { a: { from: 'os', import: 'path; rm' } } }),
    ).rejects.toMatchObject({ code: 'TOOL_FAILED' });
  });

  it('gives the globals NoETL gives: args, input_data, json, sys, variables, execution_id, step', async () => {
    const code = [
      'result = {',
      '  "t": args.get("token"),',
      '  "d": input_data["token"],',
      '  "g": token,',
      '  "j": json.dumps([1]),',
      '  "py3": sys.version_info[0] == 3,',
      '  "v": variables,',
      '  "ids": [execution_id, step],',
      '}',
    ].join('\n');
    const out = await executePython(ctx(), { code, input: { token: 'abc' } });
    expect(out.data).toEqual({ t: 'abc', d: 'abc', g: 'abc', j: '[1]', py3: true, v: {}, ids: ['e1', 'py'] });
  });

  it('returns {stdout, stderr} when no result is set', async () => {
    const out = await executePython(ctx(), { code: 'import sys\nprint("a")\nsys.stderr.write("b")' });
    expect(out.data).toEqual({ stdout: 'a\n', stderr: 'b' });
  });

  it('serialises what JSON cannot with str()', async () => {
    const out = await executePython(ctx(), {
      code: 'import datetime\nresult = {"d": datetime.date(2024, 1, 2), "s": {1}, "n": float("nan")}',
    });
    expect(out.data).toEqual({ d: '2024-01-02', s: [1], n: null });
  });

  it('reports an exception as `Type: message` with the traceback in details', async () => {
    const err = await executePython(ctx(), { code: 'x = 1\nraise ValueError(f"bad value {x}")' }).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'TOOL_FAILED', message: 'ValueError: bad value 1' });
    const details = (err as { details: Record<string, unknown> }).details;
    expect(details.exception).toBe('ValueError');
    expect(details.traceback).toMatch(/line 2/);
    expect(details.traceback).toMatch(/raise ValueError/);
    expect(details.traceback).not.toMatch(/_noetl_exec/);
  });

  it('reports a syntax error', async () => {
    await expect(executePython(ctx(), { code: 'def (' })).rejects.toMatchObject({
      message: expect.stringMatching(/^SyntaxError: /),
    });
  });

  it('kills the process on timeout', async () => {
    const started = Date.now();
    await expect(
      executePython(ctx(), { code: 'import time\ntime.sleep(30)', timeout_seconds: 0.3 }),
    ).rejects.toMatchObject({ code: 'TOOL_TIMEOUT', retryable: true });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('stops when cancelled', async () => {
    const ac = new AbortController();
    const run = executePython(ctx({}, ac.signal), { code: 'import time\ntime.sleep(30)' });
    setTimeout(() => ac.abort(), 100);
    await expect(run).rejects.toMatchObject({ code: 'CANCELLED' });
  });

  it('uses env and cwd, and rejects bad config', async () => {
    const out = await executePython(ctx(), {
      code: 'import os\nresult = [os.environ["NOETL_T"], os.getcwd()]',
      env: { NOETL_T: 7 },
      cwd: '/tmp',
    });
    expect(out.data).toEqual(['7', '/tmp']);
    await expect(executePython(ctx(), {})).rejects.toMatchObject({
      message: /'code' or 'script' is required/,
    });
    await expect(executePython(ctx(), { code: 'x', libs: { m: 'os; rm' } })).rejects.toMatchObject({
      code: 'TOOL_FAILED',
    });
  });

  it('reports a missing interpreter', async () => {
    await expect(
      executePython(ctx({ python: '/nonexistent/python9' }), { code: 'result = 1' }),
    ).rejects.toMatchObject({ message: /not found/ });
  });
});

describe('splitMarker', () => {
  it('keeps output without a marker', () => {
    expect(splitMarker('plain')).toEqual({ stdout: 'plain' });
    expect(splitMarker('a\n@@__NOETL_RESULT__@@{"ok":true,"has":true,"value":1}\n')).toEqual({
      stdout: 'a',
      doc: { ok: true, has: true, value: 1 },
    });
  });
});
