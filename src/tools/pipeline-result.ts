import { isPlainObject, type NoetlError } from '../shared/index.js';
import type { StepOutput } from './output.js';
import type { PipelineState } from './pipeline-state.js';
import type { Attempt } from './task-attempt.js';
import type { ErrorInfo, ToolResult } from './types.js';

export interface Failure {
  readonly error: NoetlError;
  readonly label: string;
  readonly attempt: Attempt;
}

export interface ResultInput {
  readonly single: boolean;
  readonly state: PipelineState;
  readonly startedAt: number;
  /** The last attempt run, its task label and attempt number. */
  readonly last?: { readonly attempt: Attempt; readonly label: string; readonly attemptNo: number };
  readonly failure?: Failure;
  /** What the step printed, when it printed anything. */
  readonly output?: StepOutput | undefined;
}

/** The wire form of an error; `data`/`extra` stay out (the data is in the result). */
export function errorInfo(error: NoetlError, label: string): ErrorInfo {
  const { data: _data, extra: _extra, ...details } = error.details ?? {};
  return {
    code: error.code,
    message: error.message,
    retryable: error.retryable,
    details: { ...details, failed_task: label },
  };
}

function streamsOf(attempt: Attempt): Pick<ToolResult, 'stdout' | 'stderr' | 'exit_code'> {
  const source: Readonly<Record<string, unknown>> = attempt.output
    ? { ...attempt.output }
    : isPlainObject(attempt.data)
      ? attempt.data
      : {};
  return {
    ...(typeof source.stdout === 'string' ? { stdout: source.stdout } : {}),
    ...(typeof source.stderr === 'string' ? { stderr: source.stderr } : {}),
    ...(typeof source.exit_code === 'number' ? { exit_code: source.exit_code } : {}),
  };
}

/**
 * The ToolResult of a run. Data: a single tool's own data (rules never change its shape), or a
 * pipeline's results keyed by label; on error, what ran plus the failing task's error data.
 */
export function buildResult(input: ResultInput): ToolResult {
  const { state, last, failure } = input;
  const base = {
    duration_ms: Date.now() - input.startedAt,
    attempts: last?.attemptNo ?? 0,
    ...(last ? streamsOf(last.attempt) : {}),
    ...(Object.keys(state.contextUpdates).length > 0 ? { context_updates: { ...state.contextUpdates } } : {}),
    ...(input.output ? { output: input.output } : {}),
  };
  if (failure) {
    const failedData = failure.attempt.data;
    const data = input.single
      ? failedData
      : {
          ...Object.fromEntries(state.results),
          ...(failedData !== undefined && failedData !== null ? { [failure.label]: failedData } : {}),
        };
    return {
      status: 'error',
      ...(data !== undefined && data !== null ? { data } : {}),
      error: errorInfo(failure.error, failure.label),
      ...base,
    };
  }
  const data = input.single
    ? last && state.results.has(last.label)
      ? state.results.get(last.label)
      : null
    : Object.fromEntries(state.results);
  return { status: 'success', data, ...base };
}
