import { describe, expect, it } from 'vitest';
import { templates } from '../../template/index.js';
import type { ChildPlaybookRequest, ChildPlaybookResult, ToolContext, ToolServices } from '../types.js';
import { executePlaybook } from './execute.js';

function ctx(services: ToolServices): ToolContext {
  return {
    executionId: 'parent-1',
    step: 'call',
    commandId: 'c1',
    label: 'call',
    attempt: 1,
    signal: new AbortController().signal,
    templates: templates(),
    baseDir: '/pb',
    services,
  };
}

function host(reply: (req: ChildPlaybookRequest) => ChildPlaybookResult): {
  services: ToolServices;
  requests: ChildPlaybookRequest[];
} {
  const requests: ChildPlaybookRequest[] = [];
  return {
    requests,
    services: {
      runPlaybook: (req) => {
        requests.push(req);
        return Promise.resolve(reply(req));
      },
    },
  };
}

const done = (over: Partial<ChildPlaybookResult> = {}): ChildPlaybookResult => ({
  execution_id: 'child-1',
  path: 'a/child',
  status: 'COMPLETED',
  result: { score: 7 },
  step_results: { finalize: { ok: true }, start: {} },
  ...over,
});

describe('playbook tool', () => {
  it('is fire-and-forget by default', async () => {
    const h = host(() => done({ status: 'RUNNING' }));
    const out = await executePlaybook(ctx(h.services), { path: './child.yaml', args: { x: 1 } });
    expect(out.data).toEqual({ status: 'started', execution_id: 'child-1', path: 'a/child', async: true });
    expect(h.requests[0]).toEqual({
      path: './child.yaml',
      workload: { x: 1 },
      parentExecutionId: 'parent-1',
      parentStep: 'call',
      baseDir: '/pb',
      mode: 'async',
      timeoutMs: 300_000,
      pollIntervalMs: 2000,
    });
  });

  it('returns the status payload for a host that ran the child to the end', async () => {
    const h = host(() => done());
    const out = await executePlaybook(ctx(h.services), { path: 'a/child' });
    expect(out.data).toMatchObject({ status: 'COMPLETED', execution_id: 'child-1', result: { score: 7 } });
  });

  it('blocks for the status payload with return_step', async () => {
    const h = host(() => done());
    const out = await executePlaybook(ctx(h.services), {
      catalog_id: '42',
      version: 3,
      return_step: 'finalize',
      input: { u: 'a' },
      timeout: 10,
      poll_interval: 0.5,
    });
    expect(out.data).toEqual({
      status: 'COMPLETED',
      execution_id: 'child-1',
      path: 'a/child',
      completed: true,
      failed: false,
      result: { score: 7 },
    });
    expect(h.requests[0]).toMatchObject({
      catalogId: '42',
      version: 3,
      mode: 'status',
      timeoutMs: 10_000,
      pollIntervalMs: 500,
    });
  });

  it('returns the child result, or result_step, with return_result', async () => {
    const h = host(() => done());
    expect((await executePlaybook(ctx(h.services), { path: 'p', return_result: true })).data).toEqual({
      score: 7,
    });
    expect(h.requests[0]).toMatchObject({ mode: 'result', timeoutMs: 180_000 });
    const step = await executePlaybook(ctx(h.services), {
      path: 'p',
      return_result: true,
      result_step: 'finalize',
    });
    expect(step.data).toEqual({ ok: true });
  });

  it('fails when the child failed, and without a host', async () => {
    const h = host(() => done({ status: 'FAILED', error: 'boom' }));
    await expect(executePlaybook(ctx(h.services), { path: 'p', return_result: true })).rejects.toMatchObject({
      code: 'TOOL_FAILED',
      message: 'playbook: child a/child (child-1) failed: boom',
      details: { data: { status: 'FAILED', error: 'boom' } },
    });
    await expect(executePlaybook(ctx({}), { path: 'p' })).rejects.toMatchObject({ code: 'TOOL_UNSUPPORTED' });
    await expect(executePlaybook(ctx({}), {})).rejects.toMatchObject({ message: /'path' or 'catalog_id'/ });
  });
});
