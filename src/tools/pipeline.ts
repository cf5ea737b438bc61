import type { KeychainEntry, PolicyThen, Task, ToolSpec } from '../dsl/index.js';
import { CancelledError, isPlainObject, toNoetlError, ToolError, type NoetlError } from '../shared/index.js';
import type { TemplateRenderer, TemplateScope } from '../template/index.js';
import { resolveKeychain, withKeychain } from './keychain.js';
import { OutputCollector } from './output.js';
import { buildResult, errorInfo, type Failure } from './pipeline-result.js';
import { PipelineState } from './pipeline-state.js';
import { abortableSleep, backoffMs, DEFAULT_RETRY_ATTEMPTS, matchRule, PREVIOUS_LABELS } from './policy.js';
import type { ToolRegistry } from './registry.js';
import {
  renderLocals,
  renderMap,
  ruleOutput,
  runAttempt,
  type Attempt,
  type AttemptContext,
  type TaskLocals,
} from './task-attempt.js';
import type { ToolResult, ToolServices } from './types.js';

export interface RunTasksInput {
  readonly spec: ToolSpec;
  /** The execution render context. */
  readonly scope: TemplateScope;
  /** Extra tool args (e.g. loop iterator vars); each task's rendered `input` is merged over them. */
  readonly args?: Readonly<Record<string, unknown>>;
  readonly executionId: string;
  readonly step: string;
  readonly commandId: string;
  readonly baseDir?: string;
  /**
   * The keychain entries the step reads (`Command.keychain`, unrendered): resolved before the
   * first task and bound as `keychain` in every task's scope.
   */
  readonly keychain?: readonly KeychainEntry[];
}

export interface RunTasksDeps {
  readonly registry: ToolRegistry;
  readonly services: ToolServices;
  readonly templates: TemplateRenderer;
  readonly signal: AbortSignal;
  /** Injectable for fake time in tests; default a real, abortable sleep. */
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Guard against endless `jump` loops (default 10 000 jumps per run). */
  readonly maxJumps?: number;
}

const DEFAULT_MAX_JUMPS = 10_000;

/** Where the run goes after a task's attempt. */
type Move =
  | { readonly to: 'retry'; readonly delayMs: number }
  | { readonly to: 'task'; readonly index: number }
  | { readonly to: 'end'; readonly failure?: Failure };

/**
 * Runs a step's tool: every task of `spec` in order, applying policy rules after each attempt
 * (contract 1.9; a single tool is a one-item pipeline, so its rules apply too). A tool failure is
 * reported in the result, never thrown; only cancellation of `deps.signal` throws (CancelledError).
 */
export async function runTasks(input: RunTasksInput, deps: RunTasksDeps): Promise<ToolResult> {
  if (!input.keychain || input.keychain.length === 0) return new PipelineRun(input, deps).run();
  const startedAt = Date.now();
  let scope: TemplateScope;
  try {
    const keychain = await resolveKeychain(input.keychain, input.scope, deps);
    scope = withKeychain(input.scope, keychain);
  } catch (err) {
    if (err instanceof CancelledError) throw err;
    if (deps.signal.aborted) throw new CancelledError();
    // A keychain that cannot be resolved fails the step before any task runs.
    return {
      status: 'error',
      error: errorInfo(toNoetlError(err, 'CREDENTIAL_NOT_FOUND'), input.spec.tasks[0]?.label ?? input.step),
      duration_ms: Date.now() - startedAt,
      attempts: 0,
    };
  }
  return new PipelineRun({ ...input, scope }, deps).run();
}

class PipelineRun {
  private readonly startedAt = Date.now();
  private readonly state: PipelineState;
  private readonly tasks: readonly Task[];
  private jumps = 0;
  private last: { attempt: Attempt; label: string; attemptNo: number } | undefined;
  /** Everything the step's processes print, over all its tasks and attempts. */
  private readonly output: OutputCollector;
  /** What every attempt of the run is given (built once, not per attempt). */
  private readonly attemptContext: AttemptContext;

  constructor(
    private readonly input: RunTasksInput,
    private readonly deps: RunTasksDeps,
  ) {
    this.state = new PipelineState(input.scope);
    this.tasks = input.spec.tasks;
    const { onOutput, outputMaxBytes } = deps.services;
    const where = { step: input.step, commandId: input.commandId };
    this.output = new OutputCollector(outputMaxBytes, onOutput ? (line) => onOutput(line, where) : undefined);
    // the fields an attempt reads, named (a spread of input and deps made a large, slow object)
    this.attemptContext = {
      executionId: input.executionId,
      step: input.step,
      commandId: input.commandId,
      ...(input.baseDir !== undefined ? { baseDir: input.baseDir } : {}),
      registry: deps.registry,
      services: deps.services,
      templates: deps.templates,
      signal: deps.signal,
      output: this.output,
    };
  }

  async run(): Promise<ToolResult> {
    const { deps } = this;
    const sleep = deps.sleep ?? abortableSleep;
    let index = 0;
    let attemptNo = 1;
    while (index < this.tasks.length) {
      if (deps.signal.aborted) throw new CancelledError();
      const task = this.tasks[index] as Task;
      const locals = renderLocals(task, this.input.args ?? {}, this.state, attemptNo, deps.templates);
      const attempt = await runAttempt(task, locals, this.state, attemptNo, this.attemptContext);
      if (deps.signal.aborted) throw new CancelledError();
      this.last = { attempt, label: task.label, attemptNo };

      const move = this.decide(task, index, locals, attempt, attemptNo);
      if (move.to === 'end') return this.result(move.failure);
      if (move.to === 'retry') {
        await sleep(move.delayMs, deps.signal);
        attemptNo += 1;
      } else {
        index = move.index;
        attemptNo = 1;
      }
    }
    return this.result();
  }

  private result(failure?: Failure): ToolResult {
    return buildResult({
      single: this.input.spec.shape === 'single',
      state: this.state,
      startedAt: this.startedAt,
      ...(this.last ? { last: this.last } : {}),
      ...(failure ? { failure } : {}),
      output: this.output.end(),
    });
  }

  /** Applies the first matching rule (or the default) to one attempt. */
  private decide(task: Task, index: number, locals: TaskLocals, attempt: Attempt, attemptNo: number): Move {
    const { templates } = this.deps;
    const fail = (error: NoetlError): Move => ({ to: 'end', failure: { error, label: task.label, attempt } });
    let then: PolicyThen | undefined;
    // Without rules nothing reads the rules' scope (most tasks): it is not built.
    if (task.policy) {
      const scope = this.state.scope(locals.vars, {
        output: ruleOutput(attempt, attemptNo, task.kind),
        _attempt: attemptNo,
      });
      try {
        then = matchRule(task.policy, templates, scope)?.then;
        if (then?.set) this.state.applySet(renderMap(templates, then.set, scope));
      } catch (err) {
        return fail(toNoetlError(err, 'TEMPLATE_RENDER'));
      }
    }
    const policyFailure = (): NoetlError =>
      attempt.error ??
      new ToolError(`task '${task.label}' failed by policy rule`, { details: { reason: 'policy_fail' } });
    const next = (target: number): Move => {
      const error = this.complete(task, locals, attempt, attemptNo);
      return error ? fail(error) : { to: 'task', index: target };
    };

    switch (then?.do ?? (attempt.ok ? 'continue' : 'fail')) {
      case 'retry':
        if (then && attemptNo < (then.attempts ?? DEFAULT_RETRY_ATTEMPTS)) {
          return { to: 'retry', delayMs: backoffMs(then, attemptNo) };
        }
        // Attempts exhausted: an error ends the run, a success goes on.
        return attempt.ok ? next(index + 1) : fail(policyFailure());
      case 'fail':
        if (attempt.ok) this.state.record(task.label, attempt.data);
        return fail(policyFailure());
      case 'break': {
        const error = this.complete(task, locals, attempt, attemptNo);
        return error ? fail(error) : { to: 'end' };
      }
      case 'jump': {
        const target = jumpTarget(this.tasks, index, then?.to);
        if (target === undefined) {
          return fail(new ToolError(`task '${task.label}': jump target '${then?.to ?? ''}' is not a label`));
        }
        this.jumps += 1;
        const max = this.deps.maxJumps ?? DEFAULT_MAX_JUMPS;
        if (this.jumps > max) {
          return fail(
            new ToolError(`pipeline exceeded ${max} jumps (max_iterations_exceeded)`, {
              details: { reason: 'max_iterations_exceeded' },
            }),
          );
        }
        return next(target);
      }
      case 'continue':
      default:
        // Unknown verbs continue, as in NoETL.
        return next(index + 1);
    }
  }

  /**
   * Records the task's data and applies its own `set`; an error when that `set` cannot render.
   * An item's `set` sees `output` as the tool's raw result, as NoETL's task sequence gives it
   * (policy rules see the `{status, data}` envelope): `fetched: "{{ output }}"` binds an http
   * result `{status_code, headers, data: <body>, body}`, so `fetched.data` is the body. A result
   * object without a `data` key also answers `output.data` with itself, as NoETL does for a
   * sibling's result read by label. (A method, not a closure made per attempt.)
   */
  private complete(
    task: Task,
    locals: TaskLocals,
    attempt: Attempt,
    attemptNo: number,
  ): NoetlError | undefined {
    this.state.record(task.label, attempt.data);
    if (!task.set) return undefined;
    try {
      const raw = attempt.data;
      const output = isPlainObject(raw) && !('data' in raw) ? { ...raw, data: raw } : raw;
      const setScope = this.state.scope(locals.vars, { output, _attempt: attemptNo });
      this.state.applySet(renderMap(this.deps.templates, task.set, setScope));
      return undefined;
    } catch (err) {
      return toNoetlError(err, 'TEMPLATE_RENDER');
    }
  }
}

function jumpTarget(tasks: readonly Task[], index: number, to: string | undefined): number | undefined {
  if (to === undefined || PREVIOUS_LABELS.has(to)) return Math.max(0, index - 1);
  const at = tasks.findIndex((t) => t.label === to);
  return at < 0 ? undefined : at;
}
