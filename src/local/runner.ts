import { dirname, join, resolve } from 'node:path';
import { ConfigReader, readPythonPool } from '../config/index.js';
import type { Playbook } from '../dsl/index.js';
import {
  applyEvent,
  cancelExecution,
  commandEvent,
  decide,
  effectiveWorkload,
  externalizeOutcome,
  outcomeEvents,
  startExecution,
  type Command,
  type EngineDeps,
  type ExecutionEvent,
  type ExecutionState,
} from '../engine/index.js';
import {
  errorMessage,
  isoTime,
  SecretRegistry,
  SnowflakeIdGenerator,
  systemClock,
  type Clock,
  type IdGenerator,
  type PlaybookLimits,
} from '../shared/index.js';
import { templates } from '../template/index.js';
import {
  defaultRegistry,
  PythonPool,
  runTasks,
  type ChildPlaybookRequest,
  type ChildPlaybookResult,
  type PythonPoolOptions,
  type ToolRegistry,
  type ToolResult,
  type ToolServices,
} from '../tools/index.js';
import { FolderResultStore } from '../tools/index.js';
import { LocalCredentials, noetlHome } from './credentials.js';
import { JsonlEventLog } from './event-log.js';
import { resolveChildPlaybook } from './children.js';
import { loadPlaybookFile } from './load.js';

export interface LocalRunOptions {
  readonly playbook: Playbook;
  /** Size limits of the child playbooks it loads (the defaults when unset). */
  readonly playbookLimits?: Partial<PlaybookLimits>;
  /** The playbook file (for relative child paths and scripts). */
  readonly file?: string;
  readonly payload?: Readonly<Record<string, unknown>>;
  /** Step to start at (default `start`). */
  readonly target?: string;
  readonly registry?: ToolRegistry;
  /** Directory of JSONL event logs; default `<cwd>/.noetl/runs`; `false` writes none. */
  readonly runDir?: string | false;
  /** Called for every event appended, after it was folded. */
  readonly onEvent?: (event: ExecutionEvent, state: ExecutionState) => void;
  /** Commands run at once (parallel loops, fan-out). Default 16. */
  readonly concurrency?: number;
  /**
   * Warm python interpreters for the run and its children, closed when it ends (size default:
   * `concurrency`); false: a process per python step. Default: `NOETL_PYTHON_POOL*` of the
   * services' env (else the process's). Unused when `services.pythonPool` is given.
   */
  readonly pythonPool?: Partial<PythonPoolOptions> | false;
  readonly signal?: AbortSignal;
  readonly parentExecutionId?: string;
  /**
   * Host services; missing `resolveCredential` is the local lookup (`credentialsFile`,
   * `$NOETL_HOME/credentials.yaml`, `NOETL_CREDENTIAL_<ALIAS>`), missing `secrets` a fresh registry.
   */
  readonly services?: Omit<ToolServices, 'runPlaybook'>;
  /** `noetl run --credentials FILE`: YAML or JSON list of `{name, type, data}`. */
  readonly credentialsFile?: string;
  /** Folder of the `artifact` tool's result store; default `$NOETL_HOME/results`. */
  readonly resultsDir?: string;
  readonly ids?: IdGenerator;
  readonly clock?: Clock;
}

/** The outcome of a local run (`noetl run --json`). */
export interface LocalRunResult {
  readonly execution_id: string;
  readonly status: 'COMPLETED' | 'FAILED' | 'CANCELLED';
  readonly playbook_name: string;
  readonly playbook_path: string;
  readonly started_at: string;
  readonly completed_at: string;
  readonly duration_seconds: number;
  readonly executed_steps: string[];
  readonly step_results: Record<string, unknown>;
  readonly final_result: unknown;
  readonly error: string | null;
  /** Stable code of the error (e.g. TOOL_FAILED, TEMPLATE_RENDER), null when COMPLETED. */
  readonly error_code: string | null;
  /** Where the event log was written, if anywhere. */
  readonly log_file?: string;
}

function stepResults(state: ExecutionState): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, s] of state.steps) {
    if (s.status === 'completed' || (s.status === 'failed' && s.data !== undefined))
      out[name] = s.data ?? null;
  }
  return out;
}

function errorCode(state: ExecutionState): string {
  if (state.status === 'CANCELLED') return 'CANCELLED';
  for (const name of state.unhandledFailures) {
    const code = state.steps.get(name)?.error?.code;
    if (code) return code;
  }
  return 'STEP_FAILED';
}

function finalResult(state: ExecutionState): unknown {
  const end = state.steps.get('end');
  if (end?.status === 'completed') return end.data ?? null;
  const last = state.lastCompleted ? state.steps.get(state.lastCompleted) : undefined;
  return last?.data ?? null;
}

/**
 * Runs a playbook in this process (DESIGN.md "local" mode): the pure engine decides, tools run
 * inline, every event is appended to a JSONL log. No server, database or bus.
 */
export async function runLocal(options: LocalRunOptions): Promise<LocalRunResult> {
  const clock = options.clock ?? systemClock;
  const ids = options.ids ?? new SnowflakeIdGenerator(clock);
  const deps: EngineDeps = { ids, clock, templates: templates() };
  const registry = options.registry ?? defaultRegistry();
  const baseDir = options.file ? dirname(resolve(options.file)) : process.cwd();
  const playbook = options.playbook;
  const executionId = ids.next();
  const runDir = options.runDir === undefined ? join(process.cwd(), '.noetl', 'runs') : options.runDir;
  const concurrency = Math.max(1, options.concurrency ?? 16);
  const startedMs = clock.now();

  const env = options.services?.env ?? process.env;
  const secrets = options.services?.secrets ?? new SecretRegistry();
  let resolveCredential = options.services?.resolveCredential;
  if (!resolveCredential) {
    const local = new LocalCredentials({
      env,
      secrets,
      ...(options.credentialsFile !== undefined ? { file: options.credentialsFile } : {}),
    });
    resolveCredential = (alias) => local.resolve(alias);
  }
  // The `artifact` tool's store: a folder under $NOETL_HOME (a worker uses the server's).
  const results =
    options.services?.results ??
    new FolderResultStore(options.resultsDir ?? join(noetlHome(env), 'results'), ids);
  // Children share the credential lookup, the secret registry and the python interpreters of the
  // run that started them.
  const poolSettings = options.pythonPool ?? readPythonPool(new ConfigReader({ env }));
  const ownPool =
    options.services?.pythonPool || poolSettings === false
      ? undefined
      : new PythonPool({ ...poolSettings, size: poolSettings.size ?? concurrency });
  const pythonPool = options.services?.pythonPool ?? ownPool;
  const shared: Omit<ToolServices, 'runPlaybook'> = {
    ...options.services,
    env,
    secrets,
    resolveCredential,
    results,
    ...(pythonPool ? { pythonPool } : {}),
  };
  const log = runDir === false ? undefined : new JsonlEventLog(join(runDir, `${executionId}.jsonl`), secrets);
  const services: ToolServices = {
    ...shared,
    runPlaybook: (request, signal) => runChild(request, signal),
  };

  async function runChild(request: ChildPlaybookRequest, signal: AbortSignal): Promise<ChildPlaybookResult> {
    const file = await resolveChildPlaybook(request.path ?? '', request.baseDir ?? baseDir);
    const limits = options.playbookLimits;
    const { playbook: child } = await loadPlaybookFile(file, limits === undefined ? {} : { limits });
    const outcome = await runLocal({
      ...options,
      playbook: child,
      file,
      payload: request.workload,
      parentExecutionId: request.parentExecutionId,
      services: shared,
      signal,
      ids,
      clock,
      registry,
    });
    const result = request.resultStep
      ? (outcome.step_results[request.resultStep] ?? null)
      : outcome.final_result;
    return {
      execution_id: outcome.execution_id,
      path: outcome.playbook_path,
      status: outcome.status,
      result,
      step_results: outcome.step_results,
      error: outcome.error,
    };
  }

  // Workload templates render once, at the start (`now()` is this instant); a failing one fails
  // only a step that reads it (lazy workload).
  const workloadErrors: Record<string, { code: string; message: string }> = {};
  const workload = effectiveWorkload(playbook, options.payload ?? {}, deps.templates, {
    now: startedMs,
    errors: workloadErrors,
  });
  const { state, decision } = startExecution(
    playbook,
    {
      executionId,
      workload,
      workloadErrors,
      startedAt: startedMs,
      ...(options.target !== undefined ? { entry: options.target } : {}),
      ...(options.parentExecutionId !== undefined ? { parentExecutionId: options.parentExecutionId } : {}),
    },
    deps,
  );

  // Indexed loops on the per-step path: a cold process runs it in the interpreter, where for...of
  // allocates an iterator and a result object per element.
  const record = (events: readonly ExecutionEvent[]): void => {
    log?.append(events);
    const { onEvent } = options;
    if (onEvent) for (let i = 0; i < events.length; i++) onEvent(events[i]!, state);
  };
  record(decision.events);

  const queue: Command[] = [...decision.commands];
  let head = 0;
  let inFlight = 0;
  const abort = new AbortController();
  const onAbort = (): void => {
    abort.abort(options.signal?.reason);
    if (state.status === 'RUNNING') record(cancelExecution(state, 'cancelled by user', deps).events);
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });

  const eventInput = (
    command: Command,
    payload: Readonly<Record<string, unknown>>,
    extra: { error?: string } = {},
  ) => ({
    executionId,
    step: command.step,
    commandId: command.command_id,
    eventId: ids.next(),
    createdAt: isoTime(clock.now()),
    payload: { command_id: command.command_id, ...payload },
    ...extra,
  });

  const fold = (event: ExecutionEvent): void => {
    applyEvent(state, event);
    record([event]);
  };

  const runOne = async (command: Command): Promise<void> => {
    fold(commandEvent('command.started', eventInput(command, {})));
    let result: ToolResult;
    try {
      result = await runTasks(
        {
          spec: command.tool,
          scope: command.render_context,
          args: command.args,
          executionId,
          step: command.step,
          commandId: command.command_id,
          baseDir,
          ...(command.keychain !== undefined ? { keychain: command.keychain } : {}),
        },
        { registry, services, templates: deps.templates, signal: abort.signal },
      );
    } catch (err) {
      result = {
        status: 'error',
        error: { code: 'INTERNAL', message: errorMessage(err), retryable: false },
        duration_ms: 0,
      };
    }
    // a step with `output:` may keep its result in the store; its events then carry the binding
    // (checked here too: a step without one, most steps, is spared an await)
    if (command.tool.output) {
      result = await externalizeOutcome(result, command.tool, command.step, (kept) =>
        results.put(
          { executionId, name: kept.name, data: kept.data, sourceStep: command.step },
          abort.signal,
        ),
      );
    }
    if (state.status !== 'RUNNING') return;
    const [callOutcome, endOutcome] = outcomeEvents(result);
    const toEvent = (o: typeof callOutcome): ExecutionEvent =>
      commandEvent(
        o.event_type,
        eventInput(command, o.payload, o.error === undefined ? {} : { error: o.error }),
      );
    const call = toEvent(callOutcome);
    const trigger = toEvent(endOutcome);
    fold(call);
    fold(trigger);
    const next = decide(state, trigger, deps);
    record(next.events);
    const { commands } = next;
    for (let i = 0; i < commands.length; i++) queue.push(commands[i]!);
  };

  await new Promise<void>((done) => {
    const pump = (): void => {
      while (head < queue.length && inFlight < concurrency && state.status === 'RUNNING') {
        const command = queue[head++]!;
        // commands taken are dropped now and then, so a long run does not hold them all
        if (head >= 1024 && head * 2 >= queue.length) {
          queue.splice(0, head);
          head = 0;
        }
        inFlight++;
        runOne(command)
          .catch((err: unknown) => {
            // runOne handles tool errors itself; anything here is an engine fault: fail the run.
            if (state.status === 'RUNNING') {
              fold({
                execution_id: executionId,
                event_id: ids.next(),
                event_type: 'playbook.failed',
                node_name: 'playbook',
                status: 'FAILED',
                created_at: isoTime(clock.now()),
                error: `internal error: ${errorMessage(err)}`,
              });
            }
          })
          .finally(() => {
            inFlight--;
            pump();
          });
      }
      if (inFlight === 0 && (head >= queue.length || state.status !== 'RUNNING')) done();
    };
    pump();
  });
  options.signal?.removeEventListener('abort', onAbort);
  await ownPool?.close();
  await log?.flush();

  const completedMs = state.completedAt ?? clock.now();
  const status = state.status === 'RUNNING' ? 'FAILED' : state.status;
  return {
    execution_id: executionId,
    status,
    playbook_name: playbook.metadata.name,
    playbook_path: playbook.metadata.path,
    started_at: isoTime(state.startedAt ?? startedMs),
    completed_at: isoTime(completedMs),
    duration_seconds: Math.max(0, (completedMs - (state.startedAt ?? startedMs)) / 1000),
    executed_steps: [...state.executed],
    step_results: stepResults(state),
    final_result: finalResult(state),
    error: status === 'COMPLETED' ? null : (state.error ?? 'execution did not complete'),
    error_code: status === 'COMPLETED' ? null : errorCode(state),
    ...(log ? { log_file: log.file } : {}),
  };
}
