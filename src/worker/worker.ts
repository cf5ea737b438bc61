import { randomUUID } from 'node:crypto';
import type { CommandBus, CommandNotification, Delivery, Subscription } from '../bus/index.js';
import { normalizeTool, type KeychainEntry, type ToolSpec } from '../dsl/index.js';
import { externalizeOutcome, outcomeEvents, type ToolOutcome } from '../engine/index.js';
import {
  errorMessage,
  isNoetlError,
  redactSecretValues,
  SANITIZED_NOTE,
  SecretRegistry,
  storableValue,
  type Logger,
  type NoetlError,
} from '../shared/index.js';
import { templates } from '../template/index.js';
import {
  runTasks,
  type ChildPlaybookRequest,
  type ChildPlaybookResult,
  type OutputLine,
  PythonPool,
  type PythonPoolOptions,
  type ToolRegistry,
  type ToolResult,
  type ToolServices,
  workerToolEnv,
} from '../tools/index.js';
import type { ClaimResponse, ControlPlaneClient, PostedEvent, PostEventsAnswer } from '../client/index.js';
import { OutputChunks } from './output-chunks.js';
import { executionSpanOf, traceparentIn, type LiveSpan, type Tracing } from '../shared/index.js';

export interface WorkerOptions {
  readonly workerId: string;
  /** Pool whose commands this worker takes (undefined: every pool). */
  readonly pool?: string;
  readonly maxConcurrent: number;
  readonly heartbeatMs: number;
  readonly client: ControlPlaneClient;
  readonly bus: CommandBus;
  readonly registry: ToolRegistry;
  readonly logger: Logger;
  /**
   * The host's environment. Tools (python/shell subprocesses) see only its allow-listed part
   * (`workerToolEnv`): never the worker's or server's tokens, keys and database URLs.
   */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** How long `stop()` waits for in-flight commands (default 30 s). */
  readonly graceMs?: number;
  /**
   * The largest request body the control plane takes (its NOETL_BODY_LIMIT_BYTES; default
   * 10 MiB, the server's default). A result whose events would be larger fails its step with
   * RESULT_TOO_LARGE and the size instead of being posted and refused.
   */
  readonly maxBodyBytes?: number;
  /** stdout/stderr kept per step (`NOETL_STEP_OUTPUT_MAX_BYTES`); default the tools' 64 KiB. */
  readonly stepOutputMaxBytes?: number;
  /**
   * Warm python interpreters (`NOETL_PYTHON_POOL*`; size default: `maxConcurrent`); false: a
   * process per python step. Closed by `stop()`.
   */
  readonly pythonPool?: Partial<PythonPoolOptions> | false;
  /** OpenTelemetry traces: a span per tool call, child of its step's span; absent: none. */
  readonly tracing?: Tracing;
  /**
   * Asks, with each command's end, to be handed one command of what it decides (claimed for this
   * worker in the same transaction, not published), and runs it in the slot just freed: a chain
   * of steps then costs one request and one commit a step. Default false.
   */
  readonly takeNext?: boolean;
  /** Called after each command with its outcome (metrics). */
  readonly onCommand?: (outcome: {
    readonly status: 'success' | 'error';
    readonly durationMs: number;
  }) => void;
}

export type WorkerState = 'idle' | 'running' | 'draining' | 'stopped';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A tool done within this is reported with its `command.started` in one request. */
const QUICK_TOOL_MS = 25;

/** A command claimed for this worker, and the notification it stands for. */
interface Taken {
  readonly n: CommandNotification;
  readonly claim: ClaimResponse;
}

/** The tool span of each command being run (traces on). */
const toolSpans = new WeakMap<CommandNotification, LiveSpan>();

/** The server's default NOETL_BODY_LIMIT_BYTES. */
export const DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024;

/** The message of the `command.failed` that answers a refused post is cut to this. */
export const MAX_REFUSAL_MESSAGE_BYTES = 4096;

/** How long a notification whose claim met another claim in progress waits to be tried again. */
const CLAIM_IN_PROGRESS_RETRY_MS = 250;

/**
 * The claim was refused because another claim of the command was in progress (`reason:
 * claim_in_progress`); through HTTP the server's details come nested under `details`.
 */
function claimInProgress(err: { readonly details?: Readonly<Record<string, unknown>> | undefined }): boolean {
  const d = err.details;
  const nested = d?.['details'];
  const inner =
    typeof nested === 'object' && nested !== null ? (nested as Record<string, unknown>) : undefined;
  return d?.['reason'] === 'claim_in_progress' || inner?.['reason'] === 'claim_in_progress';
}

/** `text` cut to at most `max` UTF-8 bytes, never inside a character. */
function cutUtf8(text: string, max: number): string {
  if (Buffer.byteLength(text, 'utf8') <= max) return text;
  const marker = '... (cut)';
  let cut = Buffer.from(text, 'utf8')
    .subarray(0, max - marker.length)
    .toString('utf8');
  if (cut.endsWith('\ufffd')) cut = cut.slice(0, -1); // a character split at the cut
  return cut + marker;
}

/**
 * The worker runtime (DESIGN.md section 3, STYLE.md 15): pulls notifications, claims each
 * command (the exactly-once gate is the server's claim), runs its tool, reports the events.
 * States: idle -> running -> draining (SIGTERM: no new pulls, in-flight commands finish within
 * the grace period) -> stopped. Independent of the store: it speaks HTTP and the bus port only.
 */
export class Worker {
  private subscription: Subscription | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<string>();
  private readonly abort = new AbortController();
  /** Aborted when `stop()` begins: ends pauses early. */
  private readonly draining = new AbortController();
  /** Claims failed in a row for a transient reason (server unreachable, 5xx). */
  private claimFailures = 0;
  private stateValue: WorkerState = 'idle';
  private readonly toolEnv: Readonly<Record<string, string>>;
  private readonly pythonPool: PythonPool | undefined;
  /**
   * This process's id beside its name: registering the name under a new instance releases what
   * a previous process of the same name still holds (it is gone: a restart under one WORKER_ID).
   */
  readonly instanceId = randomUUID();

  constructor(private readonly options: WorkerOptions) {
    this.toolEnv = workerToolEnv(options.env);
    const py = options.pythonPool;
    this.pythonPool =
      py === false ? undefined : new PythonPool({ ...py, size: py?.size ?? options.maxConcurrent });
  }

  get state(): WorkerState {
    return this.stateValue;
  }

  get running(): number {
    return this.inFlight.size;
  }

  async start(): Promise<void> {
    if (this.stateValue !== 'idle') return;
    const o = this.options;
    const register = () =>
      o.client.registerWorker({
        name: o.workerId,
        kind: 'worker_pool',
        status: 'active',
        capacity: o.maxConcurrent,
        labels: { pool: o.pool ?? '*' },
        runtime: { instance_id: this.instanceId, pid: process.pid },
      });
    await this.withRetry('register', register);
    this.heartbeat = setInterval(() => {
      o.client.heartbeat(o.workerId).catch((err: unknown) => {
        // The control plane lost our registration (a new database): register again.
        if (isNoetlError(err) && err.code === 'NOT_FOUND') void register().catch(() => undefined);
        else o.logger.warn({ err: errorMessage(err) }, 'heartbeat failed');
      });
    }, o.heartbeatMs);
    this.heartbeat.unref();
    this.subscription = await o.bus.subscribe(
      o.pool !== undefined ? { pool: o.pool } : {},
      (n, d) => this.handle(n, d),
      {
        maxInFlight: o.maxConcurrent,
        onError: (err) => o.logger.warn({ err: err.message }, 'bus handler error'),
      },
    );
    this.stateValue = 'running';
    o.logger.info(
      // The logger carries workerId (worker/main.ts and the embedded pool bind it).
      { pool: o.pool ?? '*', maxConcurrent: o.maxConcurrent },
      'worker started',
    );
  }

  /** Stops pulling, lets in-flight commands finish within the grace period, deregisters. */
  async stop(): Promise<void> {
    if (this.stateValue === 'stopped' || this.stateValue === 'draining') return;
    this.stateValue = 'draining';
    this.draining.abort();
    const grace = this.options.graceMs ?? 30_000;
    const result = await this.subscription?.stop({ graceMs: grace });
    if (result && !result.drained) this.abort.abort();
    if (this.heartbeat) clearInterval(this.heartbeat);
    await this.pythonPool?.close();
    try {
      await this.options.client.deregister(this.options.workerId);
    } catch (err) {
      this.options.logger.warn({ err: errorMessage(err) }, 'deregister failed');
    }
    this.stateValue = 'stopped';
  }

  private async handle(n: CommandNotification, delivery: Delivery): Promise<void> {
    // Every line about this command says which execution, step and command it is about.
    const log = this.options.logger.child({
      execution_id: n.execution_id,
      step: n.step,
      command_id: n.command_id,
    });
    let claim: ClaimResponse;
    try {
      claim = await this.options.client.claim(n.event_id, this.options.workerId);
    } catch (err) {
      if (isNoetlError(err) && (err.code === 'CONFLICT' || err.code === 'NOT_FOUND')) {
        if (claimInProgress(err)) {
          // Another claim holds it right now (the server handing it to a worker with the answer
          // to a command's end): that claim may still roll back, so ask again shortly rather
          // than drop the only notification of a command that would then wait for a sweep.
          delivery.nak(CLAIM_IN_PROGRESS_RETRY_MS);
          return;
        }
        delivery.ack(); // taken, finished, cancelled or unknown: nothing to do
        return;
      }
      // The server is unreachable or failing. Hand the notification back at once, for a worker
      // that can reach its server, and keep this slot busy for a while: a worker cut off from
      // its server then stops pulling instead of winning every redelivery and putting it off
      // with ever longer nak delays (a command could wait minutes while others sat idle).
      this.claimFailures++;
      const pauseMs = Math.min(5_000, 250 * 2 ** Math.min(this.claimFailures - 1, 5));
      log.warn(
        { commandId: n.command_id, err: errorMessage(err), pauseMs },
        'claim failed; handed back for redelivery',
      );
      delivery.nak(0);
      await this.pause(pauseMs);
      return;
    }
    this.claimFailures = 0;
    delivery.ack();
    // A notification of a command this worker runs now is not always a harmless duplicate: the
    // reaper re-issues a command whose worker stopped heartbeating, and this worker may be alive
    // but cut off from the server. Acking it unclaimed would drop the re-issue for good (the
    // command waits PENDING until the unclaimed sweep, and again if this worker gets it again);
    // claiming first hands it to whoever can claim it. Claimed by us again: the run in progress
    // reports it.
    if (this.inFlight.has(n.command_id)) return;
    // Commands handed over with a command's end run in this slot, one after the other.
    let next: Taken | undefined = { n, claim };
    while (next) next = await this.runClaimed(next.n, next.claim);
  }

  /** Runs a claimed command; returns the command claimed for this worker with its end, if any. */
  private async runClaimed(n: CommandNotification, claim: ClaimResponse): Promise<Taken | undefined> {
    if (this.inFlight.has(n.command_id)) return undefined;
    this.inFlight.add(n.command_id);
    // The tool call's span: child of the step span the notification names (else the
    // execution's), ended once its events are posted.
    const span = this.options.tracing?.start(
      `tool ${claim.action}: ${claim.node_name}`,
      traceparentIn(n.trace) ?? executionSpanOf(n.execution_id),
      'consumer',
      {
        'noetl.execution_id': n.execution_id,
        'noetl.step': claim.node_name,
        'noetl.command_id': n.command_id,
        'noetl.tool.kind': claim.action,
        'noetl.worker_id': this.options.workerId,
      },
    );
    if (span) toolSpans.set(n, span);
    try {
      return await this.run(n, claim);
    } finally {
      span?.end();
      this.inFlight.delete(n.command_id);
    }
  }

  /** Tool services of one command; resolved secrets are registered so no event carries them. */
  /** Waits `ms`, or less when the worker starts draining. */
  private pause(ms: number): Promise<void> {
    const signal = this.draining.signal;
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done);
    });
  }

  private services(
    secrets: SecretRegistry,
    onOutput?: ToolServices['onOutput'],
    traceparent?: string,
  ): ToolServices {
    const client = this.options.client;
    return {
      ...(onOutput ? { onOutput } : {}),
      ...(this.options.stepOutputMaxBytes !== undefined
        ? { outputMaxBytes: this.options.stepOutputMaxBytes }
        : {}),
      env: this.toolEnv,
      ...(this.pythonPool ? { pythonPool: this.pythonPool } : {}),
      logger: this.options.logger,
      secrets,
      ...(traceparent !== undefined ? { traceparent } : {}),
      resolveCredential: async (alias, signal) => {
        const credential = await client.getCredential(alias, signal);
        secrets.addSecretFields(credential.data);
        return credential;
      },
      runPlaybook: (request, signal) => this.runChild(request, signal),
      // the control plane's result store: what one worker stores, any other reads
      results: {
        put: async (request, signal) => {
          const stored = await client.putResult(
            request.executionId,
            {
              name: request.name,
              data: request.data,
              ...(request.sourceStep !== undefined ? { source_step: request.sourceStep } : {}),
            },
            signal,
          );
          return { ref: stored.ref, store: stored.store, bytes: stored.bytes, sha256: stored.sha256 };
        },
        get: (ref, signal) => client.resolveResult(ref, signal),
      },
    };
  }

  private async runChild(request: ChildPlaybookRequest, signal: AbortSignal): Promise<ChildPlaybookResult> {
    const client = this.options.client;
    const started = await client.execute(
      {
        ...(request.path !== undefined ? { path: request.path } : {}),
        ...(request.catalogId !== undefined ? { catalog_id: request.catalogId } : {}),
        ...(request.version !== undefined ? { version: request.version } : {}),
        payload: request.workload,
        parent_execution_id: request.parentExecutionId,
      },
      signal,
    );
    const path = request.path ?? request.catalogId ?? '';
    if (request.mode === 'async') return { execution_id: started.execution_id, path, status: 'RUNNING' };
    const deadline = Date.now() + request.timeoutMs;
    let wait = 50;
    while (Date.now() < deadline) {
      const status = await client.status(started.execution_id, signal);
      if (status.status !== 'RUNNING') break;
      await sleep(wait);
      wait = Math.min(request.pollIntervalMs, wait * 2);
    }
    const result = await client.result(started.execution_id, signal);
    if (result.status === 'RUNNING') {
      return {
        execution_id: started.execution_id,
        path,
        status: 'RUNNING',
        error: `timed out after ${request.timeoutMs} ms`,
      };
    }
    const value =
      request.resultStep !== undefined
        ? (result.step_results[request.resultStep] ?? null)
        : result.final_result;
    return {
      execution_id: started.execution_id,
      path: result.path || path,
      status: result.status,
      result: value,
      step_results: result.step_results,
      error: result.error,
    };
  }

  private async run(n: CommandNotification, claim: ClaimResponse): Promise<Taken | undefined> {
    const o = this.options;
    const step = claim.node_name;
    const log = o.logger.child({ execution_id: n.execution_id, step, command_id: n.command_id });
    const secrets = new SecretRegistry();
    const span = toolSpans.get(n);
    const event = (type: string, payload: Readonly<Record<string, unknown>>): PostedEvent => {
      const redacted = redactSecretValues({ command_id: n.command_id, ...payload }, secrets);
      // NUL and lone surrogates cannot be stored: replaced here, so the result is never refused.
      const storable = storableValue(redacted);
      return {
        step,
        event_type: type,
        payload: storable,
        worker_id: o.workerId,
        ...(storable !== redacted || span
          ? {
              meta: {
                ...(storable !== redacted ? { sanitized: SANITIZED_NOTE } : {}),
                ...(span ? { trace: { traceparent: span.traceparent } } : {}),
              },
            }
          : {}),
      };
    };
    // A tool that finishes quickly is reported in one request (started, call.done, completed);
    // a slower one reports `command.started` as soon as it is clear it is slow.
    const started = event('command.started', {});
    // A running step's new output lines reach the server in chunks (at most every 500 ms, only
    // when it prints): `command.heartbeat` events carrying `output: {lines}`.
    // Each chunk has its own `call_index` (1, 2, ...): the server dedups a command's events by
    // type and call_index, so a retried post stays one event and the next chunk is a new one.
    let chunks: OutputChunks | undefined;
    let chunksAfter: Promise<unknown> | undefined;
    let chunkNo = 0;
    const onOutput = (line: OutputLine): void => {
      if (!chunks) {
        chunks = new OutputChunks((output) =>
          this.post(n.execution_id, [event('command.heartbeat', { call_index: ++chunkNo, output })]),
        );
        if (chunksAfter) chunks.open(chunksAfter);
      }
      chunks.push(line);
    };
    const run = this.runTool(n, claim, step, secrets, onOutput).then((result) =>
      this.keep(n, claim, step, result),
    );
    let timer: NodeJS.Timeout | undefined;
    const quick = await Promise.race([
      run.then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), QUICK_TOOL_MS);
      }),
    ]);
    clearTimeout(timer);
    const startedPosted = quick ? undefined : this.post(n.execution_id, [started]);
    if (startedPosted) {
      chunksAfter = startedPosted;
      chunks?.open(startedPosted);
    }
    const result = await run;
    await startedPosted;
    await chunks?.stop();
    if (this.abort.signal.aborted) {
      // Shutdown cut the command short: hand it back instead of reporting a failure.
      await this.withRetry('release', () => o.client.release(n.event_id, o.workerId));
      return undefined;
    }
    const posted = (outcome: ToolOutcome): PostedEvent[] =>
      outcomeEvents(outcome).map((o) => event(o.event_type, o.payload));
    let events = posted(result);
    // A result the server would refuse (413) is not sent: it is kept in the result store as NoETL
    // keeps a result past its budget (the events carry its binding), else the step fails with its size.
    const limit = o.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    const size = (list: readonly PostedEvent[]): number =>
      Buffer.byteLength(
        JSON.stringify({ execution_id: n.execution_id, worker_id: o.workerId, events: list }),
        'utf8',
      );
    let bytes = size(events);
    if (bytes > limit && result.status === 'success' && result.reference === undefined) {
      const kept = await this.keep(n, claim, step, result, true);
      if (kept.status === 'success' && kept !== result) {
        const keptEvents = posted(kept);
        const keptBytes = size(keptEvents);
        log.warn(
          { bytes, limit, kept: keptBytes },
          'result over the request limit: kept in the result store',
        );
        if (keptBytes <= limit) [events, bytes] = [keptEvents, keptBytes];
      } else if (kept.status !== 'success') {
        log.warn(
          { bytes, limit, err: kept.error?.message },
          'result over the request limit: not kept either',
        );
      }
    }
    const tooLarge = bytes > limit;
    if (tooLarge) {
      const error = {
        code: 'RESULT_TOO_LARGE',
        message: `the step's result is ${bytes} bytes as JSON, over the ${limit}-byte limit of a request to the control plane (NOETL_BODY_LIMIT_BYTES)`,
        retryable: false,
        details: { bytes, limit },
      };
      log.error({ bytes, limit }, 'result too large to report; the step fails');
      events = posted({ status: 'error', error, duration_ms: result.duration_ms } as ToolOutcome);
    }
    if (result.status !== 'success' || tooLarge)
      span?.setError(result.error?.message ?? (tooLarge ? 'RESULT_TOO_LARGE' : 'tool failed'));
    o.onCommand?.({
      status: result.status === 'success' && !tooLarge ? 'success' : 'error',
      durationMs: result.duration_ms,
    });
    // Asking for the next command only while running: a draining worker takes nothing new.
    const take = o.takeNext === true && this.stateValue === 'running';
    const got: { answer?: PostEventsAnswer } = {};
    const refused = await this.post(
      n.execution_id,
      quick ? [started, ...events] : events,
      take ? (a) => (got.answer = a) : undefined,
    );
    if (refused) {
      // The control plane will never take these events (4xx): fail the step with a minimal
      // `command.failed` ({code, message}, the message at most 4 KiB) that it always accepts,
      // rather than leave the command claimed (the execution hangs, or the sweep runs it again).
      const code = refused.code === 'PAYLOAD_TOO_LARGE' ? 'RESULT_TOO_LARGE' : 'STEP_FAILED';
      const message = cutUtf8(
        `the control plane refused the step's events (${refused.code}, ${bytes} bytes): ${refused.message}`,
        MAX_REFUSAL_MESSAGE_BYTES,
      );
      const failed = event('command.failed', { error: { code, message } });
      const again = await this.post(n.execution_id, quick ? [started, failed] : [failed]);
      if (again) {
        log.error(
          { err: again.message },
          "the control plane refused the command's failure too; the claim's lease decides",
        );
      }
      return undefined;
    }
    return this.taken(n, got.answer);
  }

  /** The command the answer to a command's end claimed for this worker, as its notification. */
  private taken(n: CommandNotification, answer: PostEventsAnswer | undefined): Taken | undefined {
    const claim = answer?.claimed?.[0];
    if (claim === undefined) return undefined;
    const next: CommandNotification = {
      execution_id: claim.execution_id,
      event_id: claim.event_id,
      command_id: claim.command_id,
      step: claim.node_name,
      server_url: n.server_url,
      execution_pool: claim.execution_pool,
      ...(claim.trace !== undefined ? { trace: claim.trace } : {}),
    };
    return { n: next, claim };
  }

  /**
   * A step with `output:` may keep its result in the control plane's result store (any worker
   * reads it back); its events then carry the small binding instead of the result. `always`:
   * keep it whatever its size (a result no request could carry), as `output: {}` would.
   */
  private async keep(
    n: CommandNotification,
    claim: ClaimResponse,
    step: string,
    result: ToolResult,
    always = false,
  ): Promise<ToolResult> {
    if (result.status !== 'success' || this.abort.signal.aborted) return result;
    const config = claim.context.tool_config;
    const declared = config !== null && typeof config === 'object' && 'output' in config;
    if (!declared && !always) return result;
    let tool: ToolSpec;
    try {
      tool = normalizeTool(claim.context.tool_config, step);
    } catch {
      return result; // runTool reported it already
    }
    if (always) tool = { ...tool, output: { store: 'auto', select: [], ...tool.output, inlineMaxBytes: 0 } };
    if (!tool.output) return result;
    return externalizeOutcome(result, tool, step, async (kept) => {
      const stored = await this.options.client.putResult(
        n.execution_id,
        { name: kept.name, data: kept.data, source_step: step },
        this.abort.signal,
      );
      return { ref: stored.ref, store: stored.store, bytes: stored.bytes, sha256: stored.sha256 };
    });
  }

  private async runTool(
    n: CommandNotification,
    claim: ClaimResponse,
    step: string,
    secrets: SecretRegistry,
    onOutput?: (line: OutputLine) => void,
  ): Promise<ToolResult> {
    const o = this.options;
    try {
      const spec = normalizeTool(claim.context.tool_config, step);
      return await runTasks(
        {
          spec,
          scope: claim.context.render_context ?? {},
          args: claim.context.args ?? {},
          executionId: n.execution_id,
          step,
          commandId: n.command_id,
          ...(Array.isArray(claim.context.keychain)
            ? { keychain: claim.context.keychain as KeychainEntry[] }
            : {}),
        },
        {
          registry: o.registry,
          services: this.services(secrets, onOutput, toolSpans.get(n)?.traceparent),
          templates: templates(),
          signal: this.abort.signal,
        },
      );
    } catch (err) {
      return {
        status: 'error',
        error: {
          code: isNoetlError(err) ? err.code : 'INTERNAL',
          message: errorMessage(err),
          retryable: false,
        },
        duration_ms: 0,
      };
    }
  }

  /**
   * Posts events. A post that cannot reach the server (network, 5xx, 429) is retried with
   * backoff for as long as the worker runs (events are idempotent on the server): the claim's
   * lease decides the rest (a worker the server has not heard from is declared offline and its
   * command issued again). Returns the refusal no retry can change (4xx), undefined when taken.
   */
  private async post(
    executionId: string,
    events: readonly PostedEvent[],
    onTaken?: (answer: PostEventsAnswer) => void,
  ): Promise<NoetlError | undefined> {
    const o = this.options;
    // A retry of a post whose answer was lost finds its events stored and decides nothing: what
    // the lost answer handed over waits for the unstarted sweep, as a lost claim answer does.
    const take = onTaken ? { max: 1, ...(o.pool !== undefined ? { pool: o.pool } : {}) } : undefined;
    return this.withRetry(
      'post events',
      async () => {
        const answer = await o.client.postEvents(executionId, o.workerId, events, take);
        onTaken?.(answer);
      },
      { execution_id: executionId },
      Number.POSITIVE_INFINITY,
    );
  }

  /**
   * Runs `fn` until it succeeds; returns a non-retryable failure. Throws after `maxAttempts`
   * retryable failures, or when the worker stops past its grace period.
   */
  private async withRetry(
    what: string,
    fn: () => Promise<unknown>,
    context: Record<string, unknown> = {},
    maxAttempts = 60,
  ): Promise<NoetlError | undefined> {
    let delay = 100;
    for (let attempt = 1; ; attempt++) {
      try {
        await fn();
        return undefined;
      } catch (err) {
        const retryable = !isNoetlError(err) || err.retryable;
        // Without a bound, retrying ends when the worker stops past its grace period.
        const untilStopped = !Number.isFinite(maxAttempts);
        if (!retryable || attempt >= maxAttempts || (untilStopped && this.abort.signal.aborted)) {
          this.options.logger.error({ ...context, err: errorMessage(err), attempt }, `${what} failed`);
          if (!retryable) return err;
          throw err;
        }
        if (attempt === 1 || attempt % 20 === 0) {
          this.options.logger.warn(
            { ...context, err: errorMessage(err), attempt, retryInMs: delay },
            `${what} failed; retrying`,
          );
        }
        await (untilStopped ? this.sleepUntilStopped(delay) : sleep(delay));
        delay = Math.min(5_000, delay * 2);
      }
    }
  }

  /** Waits `ms`, or less when the worker stops past its grace period. */
  private sleepUntilStopped(ms: number): Promise<void> {
    const signal = this.abort.signal;
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done);
    });
  }
}
