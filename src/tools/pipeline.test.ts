import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Policy, PolicyRule, PolicyThen, Task, ToolSpec } from '../dsl/index.js';
import { ToolError } from '../shared/index.js';
import { templates, type TemplateScope } from '../template/index.js';
import { runTasks, type RunTasksDeps } from './pipeline.js';
import { defaultRegistry } from './registry.js';
import type { ToolDefinition, ToolResult } from './types.js';

/** `echo` returns its rendered config; `flaky` fails until attempt `ok_at`. */
const echoTool: ToolDefinition = {
  kind: 'echo',
  description: 'returns its config',
  execute: (_ctx, config) =>
    Promise.resolve({ data: config, stdout: 'out', extra: { http: { status: 200 } } }),
};
const flakyTool: ToolDefinition = {
  kind: 'flaky',
  description: 'fails until attempt ok_at',
  execute: (ctx, config) => {
    const okAt = Number(config.ok_at ?? 1);
    if (ctx.attempt < okAt) {
      return Promise.reject(
        new ToolError(`attempt ${ctx.attempt} failed`, {
          retryable: true,
          details: { data: { attempt: ctx.attempt }, extra: { http: { status: 503 } } },
        }),
      );
    }
    return Promise.resolve({ data: { ok: true, attempt: ctx.attempt } });
  },
};

const registry = defaultRegistry().register(echoTool).register(flakyTool);

function deps(over: Partial<RunTasksDeps> = {}): RunTasksDeps & { delays: number[] } {
  const delays: number[] = [];
  return {
    registry,
    services: {},
    templates: templates(),
    signal: new AbortController().signal,
    sleep: (ms) => {
      delays.push(ms);
      return Promise.resolve();
    },
    delays,
    ...over,
  };
}

function rule(when: string | boolean | undefined, then: PolicyThen): PolicyRule {
  return when === undefined ? { isElse: true, then } : { when, isElse: false, then };
}

function task(
  label: string,
  kind: string,
  config: Record<string, unknown>,
  rules?: PolicyRule[],
  set?: Record<string, unknown>,
): Task {
  const policy: Policy | undefined = rules ? { rules } : undefined;
  return { label, kind, config, ...(policy ? { policy } : {}), ...(set ? { set } : {}) };
}

function run(
  spec: ToolSpec,
  d: RunTasksDeps = deps(),
  scope: TemplateScope = {},
  args?: Record<string, unknown>,
): Promise<ToolResult> {
  return runTasks(
    { spec, scope, executionId: 'e1', step: 'step1', commandId: 'c1', ...(args ? { args } : {}) },
    d,
  );
}

const single = (t: Task): ToolSpec => ({ shape: 'single', tasks: [t] });
const pipeline = (...tasks: Task[]): ToolSpec => ({ shape: 'pipeline', tasks });

describe('runTasks: single tool', () => {
  it('returns the tool data in its own shape, rendered against the scope', async () => {
    const result = await run(single(task('s', 'echo', { v: '{{ workload.x + 1 }}' })), deps(), {
      workload: { x: 1 },
    });
    expect(result).toMatchObject({ status: 'success', data: { v: 2 }, attempts: 1, stdout: 'out' });
    expect(result.duration_ms).toBeGreaterThanOrEqual(0);
    expect(result.context_updates).toBeUndefined();
  });

  it('fails on error when no rule matches, with the error data and failed_task', async () => {
    const result = await run(single(task('s', 'flaky', { ok_at: 5 })));
    expect(result).toMatchObject({
      status: 'error',
      data: { attempt: 1 },
      error: {
        code: 'TOOL_FAILED',
        message: 'attempt 1 failed',
        retryable: true,
        details: { failed_task: 's' },
      },
    });
    expect(result.error?.details).not.toHaveProperty('data');
  });

  it('retries with exponential backoff and keeps its own result shape', async () => {
    const d = deps();
    const rules = [
      rule("{{ output.status == 'error' and output.http.status in [500, 503] and output.error.retryable }}", {
        do: 'retry',
        attempts: 5,
        backoff: 'exponential',
        delay: 0.5,
      }),
      rule(undefined, { do: 'continue' }),
    ];
    const result = await run(single(task('s', 'flaky', { ok_at: 4 }, rules)), d);
    expect(result).toMatchObject({ status: 'success', data: { ok: true, attempt: 4 }, attempts: 4 });
    expect(d.delays).toEqual([500, 1000, 2000]);
  });

  it('computes linear, none and fixed backoff, delay 1 s by default', async () => {
    const delays = async (then: PolicyThen): Promise<number[]> => {
      const d = deps();
      await run(single(task('s', 'flaky', { ok_at: 4 }, [rule("{{ output.status == 'error' }}", then)])), d);
      return d.delays;
    };
    expect(await delays({ do: 'retry', attempts: 4, backoff: 'linear', delay: 2 })).toEqual([
      2000, 4000, 6000,
    ]);
    expect(await delays({ do: 'retry', attempts: 4, backoff: 'none' })).toEqual([0, 0, 0]);
    expect(await delays({ do: 'retry', attempts: 4, backoff: 'fixed', delay: 0.25 })).toEqual([
      250, 250, 250,
    ]);
    expect(await delays({ do: 'retry', attempts: 4 })).toEqual([1000, 1000, 1000]);
  });

  it('ends as error when retries are exhausted (3 attempts by default)', async () => {
    const d = deps();
    const result = await run(
      single(task('s', 'flaky', { ok_at: 9 }, [rule(true, { do: 'retry', backoff: 'none' })])),
      d,
    );
    expect(result).toMatchObject({ status: 'error', attempts: 3, error: { message: 'attempt 3 failed' } });
    expect(d.delays).toHaveLength(2);
  });

  it('exposes _attempt to templates and rules', async () => {
    const rules = [rule('{{ _attempt < 3 }}', { do: 'retry', attempts: 10, backoff: 'none' })];
    const result = await run(single(task('s', 'echo', { n: '{{ _attempt }}' }, rules)));
    expect(result).toMatchObject({ status: 'success', data: { n: 3 }, attempts: 3 });
  });

  it('continues past an error when a rule says so, and can fail a success', async () => {
    const cont = await run(single(task('s', 'flaky', { ok_at: 9 }, [rule(undefined, { do: 'continue' })])));
    expect(cont).toMatchObject({ status: 'success', data: { attempt: 1 } });
    const fail = await run(
      single(task('s', 'echo', { v: 0 }, [rule('{{ output.data.v == 0 }}', { do: 'fail' })])),
    );
    expect(fail).toMatchObject({
      status: 'error',
      data: { v: 0 },
      error: {
        code: 'TOOL_FAILED',
        message: "task 's' failed by policy rule",
        details: { failed_task: 's' },
      },
    });
  });

  it('renders input as locals merged over the extra args', async () => {
    const t = task('s', 'echo', { input: { a: '{{ workload.a }}', b: 2 }, msg: '{{ a }}-{{ b }}-{{ num }}' });
    const result = await run(single(t), deps(), { workload: { a: 'x' } }, { num: 7, b: 1 });
    expect(result.data).toEqual({ input: { num: 7, a: 'x', b: 2 }, msg: 'x-2-7' });
    const argsOnly = await run(single(task('s', 'echo', {})), deps(), {}, { num: 7 });
    expect(argsOnly.data).toEqual({ input: { num: 7 } });
  });

  it('reports an unknown kind or a template error as a failed result', async () => {
    const unknown = await run(single(task('s', 'nope', {})));
    expect(unknown).toMatchObject({ status: 'error', error: { code: 'TOOL_UNSUPPORTED' } });
    const bad = await run(single(task('s', 'echo', { v: '{{ a | nosuchfilter }}' })));
    expect(bad).toMatchObject({ status: 'error', error: { code: 'TEMPLATE_RENDER' } });
  });

  it('throws CancelledError when the signal aborts during a backoff', async () => {
    const ac = new AbortController();
    const d: RunTasksDeps = { registry, services: {}, templates: templates(), signal: ac.signal };
    const spec = single(
      task('s', 'flaky', { ok_at: 9 }, [rule(true, { do: 'retry', attempts: 5, delay: 30 })]),
    );
    const pending = run(spec, d);
    setTimeout(() => ac.abort(), 50);
    await expect(pending).rejects.toMatchObject({ code: 'CANCELLED' });
  });

  it('runs a real python tool with a retry rule', async () => {
    const code = 'if _attempt_no < 2:\n    raise RuntimeError("flaky")\nresult = {"n": _attempt_no}';
    const d = deps();
    const t = task('s', 'python', { code, input: { _attempt_no: '{{ _attempt }}' } }, [
      rule("{{ output.status == 'error' }}", {
        do: 'retry',
        attempts: 3,
        delay: 0.1,
        backoff: 'exponential',
      }),
    ]);
    const result = await run(single(t), d);
    expect(result).toMatchObject({ status: 'success', data: { n: 2 }, attempts: 2 });
    expect(d.delays).toEqual([100]);
  });
});

describe('runTasks: pipeline', () => {
  it('keys results by label and lets later tasks read earlier ones', async () => {
    const result = await run(
      pipeline(task('a', 'echo', { v: 1 }), task('b', 'echo', { w: '{{ a.v + 1 }}' })),
    );
    expect(result).toMatchObject({ status: 'success', data: { a: { v: 1 }, b: { w: 2 } } });
  });

  it('stops at the first failing task with what ran', async () => {
    const result = await run(
      pipeline(task('a', 'echo', { v: 1 }), task('b', 'flaky', { ok_at: 2 }), task('c', 'echo', {})),
    );
    expect(result).toMatchObject({
      status: 'error',
      data: { a: { v: 1 }, b: { attempt: 1 } },
      error: { details: { failed_task: 'b' } },
    });
    expect(result.data).not.toHaveProperty('c');
  });

  it('writes rule and task `set` to ctx/context_updates and iter', async () => {
    const result = await run(
      pipeline(
        task(
          'a',
          'echo',
          { v: 42 },
          [
            rule(undefined, {
              do: 'continue',
              set: {
                'ctx.counter': '{{ output.data.v }}',
                'step.s': 'x',
                bare: '{{ output.status }}',
                'iter.page': 2,
              },
            }),
          ],
          { 'ctx.from_task': '{{ output.data.v * 2 }}' },
        ),
        task('b', 'echo', {
          c: '{{ ctx.counter }}',
          old: '{{ ctx.base }}',
          s: '{{ s }}',
          bare: '{{ bare }}',
          p: '{{ iter.page }}',
          t: '{{ from_task }}',
        }),
      ),
      deps(),
      { ctx: { base: 'kept' } },
    );
    expect(result.data).toEqual({
      a: { v: 42 },
      b: { c: 42, old: 'kept', s: 'x', bare: 'success', p: 2, t: 84 },
    });
    expect(result.context_updates).toEqual({ counter: 42, s: 'x', bare: 'success', from_task: 84 });
  });

  it('breaks out successfully, skipping the rest', async () => {
    const result = await run(
      pipeline(task('a', 'echo', { v: 1 }, [rule(true, { do: 'break' })]), task('b', 'flaky', { ok_at: 9 })),
    );
    expect(result).toMatchObject({ status: 'success', data: { a: { v: 1 } } });
  });

  it('jumps to previous and guards against endless jumps', async () => {
    const counted = await run(
      pipeline(
        task('count', 'echo', { n: '{{ iter.n | default(0) }}' }, [
          rule(undefined, { do: 'continue', set: { 'iter.n': '{{ (iter.n | default(0)) + 1 }}' } }),
        ]),
        task('loop', 'noop', {}, [
          rule('{{ iter.n < 3 }}', { do: 'jump', to: 'previous' }),
          rule(undefined, { do: 'break' }),
        ]),
      ),
    );
    expect(counted).toMatchObject({ status: 'success', data: { count: { n: 2 }, loop: {} } });
    const endless = await run(
      pipeline(task('a', 'noop', {}), task('b', 'noop', {}, [rule(true, { do: 'jump', to: 'a' })])),
      deps({ maxJumps: 5 }),
    );
    expect(endless).toMatchObject({
      status: 'error',
      error: { details: { reason: 'max_iterations_exceeded' } },
    });
    const missing = await run(pipeline(task('a', 'noop', {}, [rule(true, { do: 'jump', to: 'zzz' })])));
    expect(missing).toMatchObject({ status: 'error', error: { message: /jump target 'zzz'/ } });
  });

  describe('pagination against a local server (contract example D)', () => {
    let server: Server;
    let base = '';
    const hits: string[] = [];
    beforeAll(async () => {
      server = createServer((req, res) => {
        const url = new URL(req.url ?? '/', 'http://x');
        const page = Number(url.searchParams.get('page'));
        hits.push(String(page));
        // Page 2 fails once with 503 to exercise the retry rule.
        if (page === 2 && hits.filter((h) => h === '2').length === 1) {
          res.writeHead(503, { 'content-type': 'application/json' });
          res.end('{"error":"busy"}');
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ items: [page * 10, page * 10 + 1], has_more: page < 3 }));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    it('pages with retry, jump and break', async () => {
      const spec = pipeline(
        task('init', 'noop', {}, [
          rule(undefined, { do: 'continue', set: { 'iter.page': 1, 'ctx.all': [] } }),
        ]),
        task('fetch', 'http', { url: '{{ workload.api_url }}/items', params: { page: '{{ iter.page }}' } }, [
          rule("{{ output.status == 'error' }}", {
            do: 'retry',
            attempts: 3,
            backoff: 'exponential',
            delay: 1,
          }),
          rule(undefined, {
            do: 'continue',
            set: {
              'iter.has_more': '{{ output.data.data.has_more }}',
              'ctx.all': '{{ ctx.all + output.data.data.items }}',
            },
          }),
        ]),
        task('paginate', 'noop', {}, [
          rule('{{ iter.has_more }}', {
            do: 'jump',
            to: 'fetch',
            set: { 'iter.page': '{{ (iter.page | int) + 1 }}' },
          }),
          rule(undefined, { do: 'break' }),
        ]),
      );
      const d = deps();
      const result = await run(spec, d, { workload: { api_url: base } });
      expect(result.status).toBe('success');
      expect(hits).toEqual(['1', '2', '2', '3']);
      expect(d.delays).toEqual([1000]);
      expect(result.context_updates).toEqual({ all: [10, 11, 20, 21, 30, 31] });
      expect(result.data).toMatchObject({
        fetch: { status_code: 200, data: { has_more: false } },
        paginate: {},
      });
    });
  });
});
