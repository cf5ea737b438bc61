import type { ErrorCode, Logger, SecretRegistry } from '../shared/index.js';
import type { TemplateRenderer } from '../template/index.js';
import type { CredentialTarget } from './credentials.js';
import type { OutputLine, OutputSink, StepOutput } from './output.js';
import type { PythonPool } from './python/pool.js';

/** What a tool returns on success. `data` is the step data later templates see (contract 1.12). */
export interface ToolOutput {
  readonly data: unknown;
  readonly stdout?: string;
  readonly stderr?: string;
  readonly exit_code?: number;
  /** Extra fields exposed to policy rules as `output.<key>` (e.g. http: `{status}`). */
  readonly extra?: Readonly<Record<string, unknown>>;
}

/** An error as it crosses the wire (STYLE.md 13). */
export interface ErrorInfo {
  readonly code: ErrorCode;
  readonly message: string;
  readonly retryable: boolean;
  readonly details?: Readonly<Record<string, unknown>>;
}

/** The tool result envelope carried by `call.done` (contract 1.12 `ToolResult`). */
export interface ToolResult {
  readonly status: 'success' | 'error' | 'timeout';
  readonly data?: unknown;
  readonly error?: ErrorInfo;
  readonly stdout?: string;
  readonly stderr?: string;
  readonly exit_code?: number;
  readonly duration_ms: number;
  /** `ctx.*`/bare keys written by policy-rule `set` (contract 1.9 `_context_updates`). */
  readonly context_updates?: Readonly<Record<string, unknown>>;
  /** Attempts used by the task that ended the command. */
  readonly attempts?: number;
  /** What the step's processes printed (timestamped tail); absent when they printed nothing. */
  readonly output?: StepOutput;
  /**
   * Set when the step's `output:` block kept the result in the result store: NoETL's ResultRef
   * (`{kind: result_ref, ref, store, scope, meta}`); `data` is then the small binding.
   */
  readonly reference?: Readonly<Record<string, unknown>>;
}

export interface CredentialRecord {
  readonly name: string;
  readonly type: string;
  readonly data: Readonly<Record<string, unknown>>;
}

export type ChildMode = 'async' | 'status' | 'result';

export interface ChildPlaybookRequest {
  /** Catalog path, or a file path (local mode: relative to `baseDir`). */
  readonly path?: string;
  readonly catalogId?: string;
  readonly version?: string | number;
  readonly workload: Readonly<Record<string, unknown>>;
  readonly parentExecutionId: string;
  readonly parentStep: string;
  /** Directory of the parent playbook file (local mode). */
  readonly baseDir?: string;
  readonly mode: ChildMode;
  /** `result` mode: which step's result to return (default: the child's final result). */
  readonly resultStep?: string;
  readonly timeoutMs: number;
  readonly pollIntervalMs: number;
}

export interface ChildPlaybookResult {
  readonly execution_id: string;
  readonly path: string;
  /** COMPLETED | FAILED | CANCELLED | RUNNING (async) */
  readonly status: string;
  readonly result?: unknown;
  readonly step_results?: Readonly<Record<string, unknown>>;
  readonly error?: string | null;
}

/** What the result store gives back for a stored value. */
export interface StoredResult {
  /** `noetl://execution/<eid>/result/<name>/<id>` */
  readonly ref: string;
  /** Where it is kept: `db` (the control plane's store) or `local` (a folder, `noetl run`). */
  readonly store: string;
  readonly bytes: number;
  readonly sha256: string;
}

/**
 * The result store (contract 1.12) as a tool sees it: the control plane's (`PUT /api/result`) on a
 * worker, so any worker reads what another wrote; a folder under `$NOETL_HOME` in `noetl run`.
 */
export interface ResultStoreService {
  put(
    request: {
      readonly executionId: string;
      readonly name: string;
      readonly data: unknown;
      readonly sourceStep?: string;
    },
    signal: AbortSignal,
  ): Promise<StoredResult>;
  /** The value a `noetl://` reference names; NOT_FOUND when there is none. */
  get(ref: string, signal: AbortSignal): Promise<unknown>;
}

/** Host-provided capabilities (local runner, in-process worker, remote worker). */
export interface ToolServices {
  resolveCredential?(alias: string, signal: AbortSignal): Promise<CredentialRecord>;
  /** The result store (the `artifact` tool); absent: the tool fails saying so. */
  readonly results?: ResultStoreService;
  runPlaybook?(request: ChildPlaybookRequest, signal: AbortSignal): Promise<ChildPlaybookResult>;
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly logger?: Logger;
  /** Python interpreter (default `$PYTHON_PATH` or `python3`). */
  readonly python?: string;
  /** Warm interpreters python steps run on (`NOETL_PYTHON_POOL`); absent: a process per step. */
  readonly pythonPool?: PythonPool;
  /**
   * The secret values of this run: credential and keychain resolution add to it, and the host
   * redacts them from every event, log line and printed result.
   */
  readonly secrets?: SecretRegistry;
  /**
   * W3C `traceparent` of the tool call's span (traces on): the http tool sends it, so the
   * called service joins the execution's trace.
   */
  readonly traceparent?: string;
  /** Bound of the output kept per step (default 64 KiB; the tail is kept). */
  readonly outputMaxBytes?: number;
  /** Called with each line a step prints, as it arrives (e.g. `noetl run -v`). */
  readonly onOutput?: (
    line: OutputLine,
    where: { readonly step: string; readonly commandId: string },
  ) => void;
}

export interface ToolContext {
  readonly executionId: string;
  readonly step: string;
  readonly commandId: string;
  /** Pipeline label of the task being run. */
  readonly label: string;
  /** 1-based attempt of this task. */
  readonly attempt: number;
  readonly signal: AbortSignal;
  readonly templates: TemplateRenderer;
  /** Directory of the playbook file, for relative paths (local mode). */
  readonly baseDir?: string;
  readonly services: ToolServices;
  /** Where a process-running tool writes its stdout and stderr (kept with the step's events). */
  readonly output?: OutputSink;
}

/**
 * A tool kind (STYLE.md 6): `src/tools/<kind>/{index,config,execute}.ts`. `execute` receives the
 * rendered config and returns the output, or throws a NoetlError (ToolError with `retryable`,
 * `details.data` for policy rules to inspect as `output.data`, and optionally `details.extra`, merged
 * into the rule's `output` like `ToolOutput.extra`, e.g. http's `{http: {status}}`).
 */
export interface ToolDefinition {
  readonly kind: string;
  /** One line for `--help` and docs. */
  readonly description: string;
  /**
   * Which credential mapping (contract 9) the pipeline applies to the task's `auth: <alias>` (or
   * `credential: <alias>`) before the tool runs; tools without one get `auth` as written.
   */
  readonly authTarget?: CredentialTarget;
  execute(ctx: ToolContext, config: Readonly<Record<string, unknown>>): Promise<ToolOutput>;
}
