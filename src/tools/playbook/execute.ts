import { NoetlError, ToolError } from '../../shared/index.js';
import type { ChildPlaybookResult, ToolContext, ToolOutput } from '../types.js';
import { readPlaybookConfig } from './config.js';

const TERMINAL = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);

/**
 * The child's status payload, as NoETL's `return_step` gives it (docs/tools.md, playbook): what
 * became of the child and its final result, not every step's result. A parent looping over
 * thousands of children would otherwise carry all of their steps' data (NoETL's
 * `server_oom_stress_test`: 3,000 children, 174 MB).
 */
function statusPayload(child: ChildPlaybookResult): Record<string, unknown> {
  const status = child.status.toUpperCase();
  return {
    status: child.status,
    execution_id: child.execution_id,
    path: child.path,
    completed: status === 'COMPLETED',
    failed: status === 'FAILED',
    ...(child.result !== undefined ? { result: child.result } : {}),
    ...(child.error ? { error: child.error } : {}),
  };
}

export async function executePlaybook(
  ctx: ToolContext,
  rawConfig: Readonly<Record<string, unknown>>,
): Promise<ToolOutput> {
  const config = readPlaybookConfig(rawConfig);
  if (!ctx.services.runPlaybook) {
    throw new NoetlError('TOOL_UNSUPPORTED', 'playbook: this host cannot run child playbooks');
  }
  const child = await ctx.services.runPlaybook(
    {
      ...(config.path !== undefined ? { path: config.path } : {}),
      ...(config.catalogId !== undefined ? { catalogId: config.catalogId } : {}),
      ...(config.version !== undefined ? { version: config.version } : {}),
      workload: config.workload,
      parentExecutionId: ctx.executionId,
      parentStep: ctx.step,
      ...(ctx.baseDir !== undefined ? { baseDir: ctx.baseDir } : {}),
      mode: config.mode,
      ...(config.resultStep !== undefined ? { resultStep: config.resultStep } : {}),
      timeoutMs: config.timeoutMs,
      pollIntervalMs: config.pollIntervalMs,
    },
    ctx.signal,
  );
  const status = child.status.toUpperCase();
  if (status === 'FAILED' || status === 'CANCELLED') {
    const what = status === 'FAILED' ? 'failed' : 'was cancelled';
    throw new ToolError(
      `playbook: child ${child.path} (${child.execution_id}) ${what}${child.error ? `: ${child.error}` : ''}`,
      { details: { data: statusPayload(child), child_execution_id: child.execution_id } },
    );
  }
  if (config.mode === 'result') {
    const stepResult = config.resultStep !== undefined ? child.step_results?.[config.resultStep] : undefined;
    return { data: stepResult ?? child.result ?? null };
  }
  if (config.mode === 'async' && !TERMINAL.has(status)) {
    return {
      data: { status: 'started', execution_id: child.execution_id, path: child.path, async: true },
    };
  }
  return { data: statusPayload(child) };
}
