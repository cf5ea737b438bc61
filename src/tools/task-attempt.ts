import type { Task } from '../dsl/index.js';
import { CancelledError, isPlainObject, toNoetlError, type NoetlError } from '../shared/index.js';
import type { TemplateRenderer, TemplateScope } from '../template/index.js';
import { applyToolAuth } from './credentials.js';
import { classifyError } from './error-kind.js';
import type { OutputSink } from './output.js';
import type { PipelineState } from './pipeline-state.js';
import type { ToolRegistry } from './registry.js';
import type { ToolOutput, ToolServices } from './types.js';

/** How one attempt of a task ended. */
export interface Attempt {
  readonly ok: boolean;
  /** The tool's data, or the error's `details.data` (null when absent). */
  readonly data: unknown;
  readonly output?: ToolOutput;
  readonly error?: NoetlError;
}

/** The task's `input` rendered and merged over the extra args: its local template variables. */
export interface TaskLocals {
  /** Config key the input came from (`input`, `args` or `payload`); `input` when none. */
  readonly key: string;
  readonly vars: Readonly<Record<string, unknown>>;
  readonly error?: NoetlError;
}

export interface AttemptContext {
  readonly executionId: string;
  readonly step: string;
  readonly commandId: string;
  readonly baseDir?: string;
  readonly registry: ToolRegistry;
  readonly services: ToolServices;
  readonly templates: TemplateRenderer;
  readonly signal: AbortSignal;
  readonly output?: OutputSink;
}

const INPUT_KEYS = ['input', 'args', 'payload'] as const;

export function renderMap(
  templates: TemplateRenderer,
  map: Readonly<Record<string, unknown>>,
  scope: TemplateScope,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(map)) out[key] = templates.renderValue(value, scope);
  return out;
}

/** Map keys of a tool config may be templates too (contract 1.11). */
function renderKey(templates: TemplateRenderer, key: string, scope: TemplateScope): string {
  return key.includes('{{') || key.includes('{%') ? templates.render(key, scope) : key;
}

export function renderLocals(
  task: Task,
  args: Readonly<Record<string, unknown>>,
  state: PipelineState,
  attemptNo: number,
  templates: TemplateRenderer,
): TaskLocals {
  const key = INPUT_KEYS.find((k) => task.config[k] !== undefined && task.config[k] !== null) ?? 'input';
  const raw = task.config[key];
  if (raw === undefined || raw === null) return { key, vars: { ...args } };
  try {
    const rendered = templates.renderValue(raw, state.scope({ _attempt: attemptNo }));
    return { key, vars: isPlainObject(rendered) ? { ...args, ...rendered } : { ...args } };
  } catch (err) {
    return { key, vars: { ...args }, error: toNoetlError(err, 'TEMPLATE_RENDER') };
  }
}

/**
 * Renders the task's config (the input key replaced by the merged locals) and runs the tool once.
 * A failure becomes an unsuccessful Attempt; only cancellation throws.
 */
export async function runAttempt(
  task: Task,
  locals: TaskLocals,
  state: PipelineState,
  attemptNo: number,
  ctx: AttemptContext,
): Promise<Attempt> {
  try {
    if (locals.error) throw locals.error;
    const tool = ctx.registry.get(task.kind);
    const scope = state.scope(locals.vars, { _attempt: attemptNo });
    const config: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(task.config)) {
      if (key === locals.key) continue;
      config[renderKey(ctx.templates, key, scope)] = ctx.templates.renderValue(value, scope);
    }
    if (Object.keys(locals.vars).length > 0 || task.config[locals.key] !== undefined) {
      config[locals.key] = locals.vars;
    }
    const resolved = tool.authTarget
      ? await applyToolAuth(tool.authTarget, config, ctx.services, ctx.signal)
      : config;
    const output = await tool.execute(
      {
        executionId: ctx.executionId,
        step: ctx.step,
        commandId: ctx.commandId,
        label: task.label,
        attempt: attemptNo,
        signal: ctx.signal,
        templates: ctx.templates,
        services: ctx.services,
        ...(ctx.baseDir !== undefined ? { baseDir: ctx.baseDir } : {}),
        ...(ctx.output !== undefined ? { output: ctx.output } : {}),
      },
      resolved,
    );
    return { ok: true, data: output.data, output };
  } catch (err) {
    if (err instanceof CancelledError) throw err;
    if (ctx.signal.aborted) throw new CancelledError();
    const error = toNoetlError(err, 'TOOL_FAILED');
    return { ok: false, data: error.details?.data ?? null, error };
  }
}

/**
 * The `output` a policy rule sees (contract 1.9), plus the tool's `extra`; `output.error` is
 * classified as NoETL does (kind, code, http_status, retry_after, pg_code, ...) for the tool
 * kind `source`.
 */
export function ruleOutput(attempt: Attempt, attemptNo: number, source = 'unknown'): Record<string, unknown> {
  const extra = attempt.output?.extra ?? attempt.error?.details?.extra;
  const error = attempt.error;
  return {
    ...(isPlainObject(extra) ? extra : {}),
    status: attempt.ok ? 'success' : 'error',
    data: attempt.data,
    ...(error ? { error: classifyError(error, source) } : {}),
    _attempt: attemptNo,
  };
}
