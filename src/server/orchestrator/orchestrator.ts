import { randomBytes } from 'node:crypto';
import { resolvePool, type CommandBus } from '../../bus/index.js';
import type { Playbook } from '../../dsl/index.js';
import {
  cancelExecution,
  effectiveWorkload,
  resumeExecution,
  startExecution,
  type Command,
  type EngineDeps,
  type ExecutionEvent,
  type StartOptions,
} from '../../engine/index.js';
import {
  ConflictError,
  errorMessage,
  isoTime,
  NoetlError,
  NotFoundError,
  type Clock,
  type IdGenerator,
  type Logger,
  type PlaybookLimits,
} from '../../shared/index.js';
import type { TemplateRenderer } from '../../template/index.js';
import { isRetryableDbError } from '../../store/index.js';
import type {
  CatalogRecord,
  ClaimResult,
  CommandClaim,
  CommandRecord,
  Store,
  StoreTx,
} from '../../store/index.js';
import { ingestBatch, persistDecision, planIngest, RepeatedEvents, type IngestDeps } from './ingest.js';
import { LiveExecutions, type LiveExecution } from './live.js';
import { toCommandInput, toEventInput } from './mapping.js';
import { ClaimBacklog } from './backlog.js';
import { Publisher } from './publisher.js';
import { commandTrace, endedSpans, postedTraceparent, stepTrace } from './tracing.js';
import type { JsonObject, Tracing } from '../../shared/index.js';
import type { WireEvent } from './wire.js';

export interface OrchestratorDeps {
  readonly store: Store;
  readonly bus: CommandBus;
  readonly ids: IdGenerator;
  readonly clock: Clock;
  readonly templates: TemplateRenderer;
  readonly logger: Logger;
  /** Put into notifications so workers know where to claim. */
  readonly serverUrl: string;
  /** Steps an execution may enter (`NOETL_MAX_STEPS_PER_EXECUTION`); the engine's default if unset. */
  readonly stepBudget?: number;
  /** Size limits of the playbooks it parses (`NOETL_PLAYBOOK_MAX_*`); the defaults if unset. */
  readonly playbookLimits?: Partial<PlaybookLimits>;
  /** OpenTelemetry traces (docs/observability.md); absent: none. */
  readonly tracing?: Tracing;
}

export interface ExecuteRequest {
  readonly path?: string;
  readonly catalogId?: string;
  readonly version?: number | 'latest';
  readonly payload?: Readonly<Record<string, unknown>>;
  readonly parentExecutionId?: string;
  readonly executionPool?: string;
  /** `dedup.key` or the `Idempotency-Key` header. */
  readonly dedupKey?: string;
  readonly dedupWindowMs?: number;
}

export interface ExecuteResponse {
  readonly execution_id: string;
  readonly status: 'started' | 'duplicate';
  readonly commands_generated: number;
}

export interface IngestResult {
  readonly event_ids: string[];
  readonly commands_generated: number;
  readonly duplicates: number;
  /** Commands of the decision claimed for the posting worker (`take`), in the same transaction. */
  readonly claimed?: readonly TakenCommand[];
}

/**
 * A worker posting a command's end asks to be handed what it decides: up to `max` of the new
 * commands (of its pool, when it serves one) are claimed for it in the ingest's transaction,
 * through the same claim statement as `POST /api/commands/{id}/claim`, and are not published.
 */
export interface TakeRequest {
  readonly workerId: string;
  /** The pool the worker serves; undefined: every pool. */
  readonly pool?: string;
  readonly max: number;
}

/** A command claimed for the posting worker, with what its notification would have said. */
export interface TakenCommand {
  readonly claim: ClaimResult;
  readonly executionPool: string;
  readonly trace?: JsonObject;
}

/** A command claimed for the posting worker: one of the decision's (`command`) or a queued one. */
interface Taken {
  readonly command?: Command;
  readonly claim: ClaimResult;
}

/** Queued commands a take tries to claim before it takes the decision's own. */
const QUEUED_TRIES = 2;

/** One request of a batch execute: started or a duplicate, or the error that refused it. */
export type BatchOutcome = ExecuteResponse | { readonly error: unknown };

const DEFAULT_DEDUP_WINDOW_MS = 24 * 3600 * 1000;

/**
 * Drives executions on the server (DESIGN.md section 3): every write for one execution happens
 * under that execution's lock in one transaction (events, decisions and command rows together),
 * then the new commands' notifications are published. A crash between commit and publish is
 * repaired by the outbox sweep (sweeps.ts).
 */
export class Orchestrator {
  readonly live: LiveExecutions;
  private readonly engine: EngineDeps;
  private readonly publisher: Publisher;
  private readonly ingestDeps: IngestDeps;
  private readonly backlog = new ClaimBacklog();

  constructor(readonly deps: OrchestratorDeps) {
    this.live = new LiveExecutions(deps.playbookLimits);
    this.engine = {
      ids: deps.ids,
      clock: deps.clock,
      templates: deps.templates,
      ...(deps.stepBudget !== undefined ? { stepBudget: deps.stepBudget } : {}),
    };
    this.publisher = new Publisher({
      ...deps,
      onReceipt: (commandId, receipt) => this.backlog.receipt(commandId, receipt),
    });
    this.ingestDeps = { live: this.live, engine: this.engine, ids: deps.ids, now: () => this.now() };
  }

  private now(): string {
    return isoTime(this.deps.clock.now());
  }

  private async resolveCatalog(tx: StoreTx, req: ExecuteRequest): Promise<CatalogRecord> {
    if (req.catalogId !== undefined) {
      const entry = await tx.catalog.get(req.catalogId);
      if (!entry) throw new NotFoundError(`catalog entry ${req.catalogId} not found`);
      return entry;
    }
    if (req.path === undefined || req.path === '')
      throw new NoetlError('BAD_REQUEST', 'path or catalog_id is required');
    let entry = await tx.catalog.getByPath(req.path, req.version ?? 'latest');
    let tried = '';
    if (!entry && req.parentExecutionId !== undefined) {
      // A child named as a file (`./children/x.yaml`) resolves against the parent's catalog
      // path, as `noetl run` resolves it against the parent's file (issue 11 item 11).
      const parent = await tx.executions.overview(req.parentExecutionId);
      const relative = parent?.path ? childCatalogPath(parent.path, req.path) : undefined;
      if (relative !== undefined) {
        entry = await tx.catalog.getByPath(relative, req.version ?? 'latest');
        tried = ` (nor '${relative}', relative to the parent's '${parent?.path ?? ''}')`;
      }
    }
    if (!entry) {
      throw new NotFoundError(
        `playbook '${req.path}'${typeof req.version === 'number' ? ` version ${req.version}` : ''} is not in the catalog${tried}`,
      );
    }
    return entry;
  }

  /**
   * What starting `req` writes, decided in memory: its catalog entry (read by `resolve`, once
   * per playbook in a batch), pool and the first decision. The workload is written once, in the
   * decision's `playbook_started` (the execution row reads it from there, not a copy of its own).
   */
  private async prepare(
    tx: StoreTx,
    req: ExecuteRequest,
    resolve: (req: ExecuteRequest) => Promise<CatalogRecord> = (r) => this.resolveCatalog(tx, r),
  ) {
    const entry = await resolve(req);
    if (entry.kind !== 'playbook') {
      throw new NoetlError('BAD_REQUEST', `catalog entry ${entry.path} is a ${entry.kind}, not a playbook`);
    }
    const playbook = await this.live.playbook(tx, entry.catalogId);
    const executionId = this.deps.ids.next();
    // Rendered once here and recorded in playbook_started; a failing value fails only a step
    // that reads it (lazy workload), and `now()` is this instant in every template.
    const startedAt = this.deps.clock.now();
    const workloadErrors: Record<string, { code: string; message: string }> = {};
    const workload = effectiveWorkload(playbook, req.payload ?? {}, this.deps.templates, {
      now: startedAt,
      errors: workloadErrors,
    });
    const pool = resolvePool({
      ...(req.executionPool !== undefined ? { execution_pool: req.executionPool } : {}),
      path: entry.path,
    });
    const { state, decision } = startExecution(
      playbook,
      {
        executionId,
        workload,
        workloadErrors,
        startedAt,
        catalogId: entry.catalogId,
        path: entry.path,
        version: String(entry.version),
        executionPool: pool,
        ...(req.parentExecutionId !== undefined ? { parentExecutionId: req.parentExecutionId } : {}),
      },
      this.engine,
    );
    return { executionId, entry, pool, state, decision };
  }

  /** `POST /api/execute`: `playbook_started`, `step.enter`, `command.issued` and the command rows in one transaction. */
  async execute(req: ExecuteRequest): Promise<ExecuteResponse> {
    const { store } = this.deps;
    const run = async (
      tx: StoreTx,
    ): Promise<{ response: ExecuteResponse; commands: Command[]; pool: string }> => {
      if (req.dedupKey !== undefined) {
        const existing = await tx.executions.findByIdempotencyKey(
          req.dedupKey,
          req.dedupWindowMs ?? DEFAULT_DEDUP_WINDOW_MS,
        );
        if (existing) {
          return {
            response: { execution_id: existing.executionId, status: 'duplicate', commands_generated: 0 },
            commands: [],
            pool: '',
          };
        }
      }
      const { executionId, entry, pool, state, decision } = await this.prepare(tx, req);
      const appended = await tx.events.append({
        execution: {
          executionId,
          catalogId: entry.catalogId,
          path: entry.path,
          ...(req.parentExecutionId !== undefined ? { parentExecutionId: req.parentExecutionId } : {}),
          ...(req.dedupKey !== undefined ? { idempotencyKey: req.dedupKey } : {}),
        },
        events: decision.events.map((e) => toEventInput(e)),
        commands: decision.commands.map(toCommandInput),
      });
      const last = decision.events[decision.events.length - 1]!;
      this.live.start(executionId, state, last.event_id, appended.events.length);
      return {
        response: {
          execution_id: executionId,
          status: 'started',
          commands_generated: decision.commands.length,
        },
        commands: decision.commands,
        pool,
      };
    };
    const out =
      req.dedupKey !== undefined ? await store.withLock(`dedup:${req.dedupKey}`, run) : await store.tx(run);
    this.live.settled(out.response.execution_id);
    await this.publish(out.commands, out.pool);
    return out.response;
  }

  /**
   * `POST /api/execute/batch` and the NATS subscriptions: starts each request as `execute` does,
   * in one transaction of a few statements whatever the batch's size: the idempotency keys
   * locked and looked up at once, each playbook's catalog entry read once, and every execution
   * row, start event and first command written by one statement. A refused request (unknown
   * playbook, bad payload) gets its error in its place and the others start; a key seen before
   * (in the store or earlier in the batch) answers `duplicate`. Should the shared write fail,
   * each request is started on its own, so no request undoes another.
   */
  async executeBatch(reqs: readonly ExecuteRequest[]): Promise<BatchOutcome[]> {
    if (reqs.length === 0) return [];
    const windows = new Map<string, number>();
    for (const r of reqs) {
      if (r.dedupKey !== undefined && !windows.has(r.dedupKey))
        windows.set(r.dedupKey, r.dedupWindowMs ?? DEFAULT_DEDUP_WINDOW_MS);
    }
    type Started = Awaited<ReturnType<Orchestrator['prepare']>> & { readonly req: ExecuteRequest };
    const run = async (tx: StoreTx): Promise<{ outcomes: BatchOutcome[]; started: Started[] }> => {
      const existing = await tx.executions.findByIdempotencyKeys(
        [...windows].map(([key, withinMs]) => ({ key, withinMs })),
      );
      const entries = new Map<string, Promise<CatalogRecord>>();
      const resolve = (r: ExecuteRequest): Promise<CatalogRecord> => {
        const key = JSON.stringify([r.catalogId, r.path, r.version, r.parentExecutionId]);
        let entry = entries.get(key);
        if (!entry) {
          entry = this.resolveCatalog(tx, r);
          entries.set(key, entry);
          entry.catch(() => undefined); // each request awaits it and reports the error
        }
        return entry;
      };
      const outcomes: BatchOutcome[] = [];
      const started: Started[] = [];
      for (const req of reqs) {
        const known = req.dedupKey !== undefined ? existing.get(req.dedupKey) : undefined;
        if (known !== undefined) {
          outcomes.push({ execution_id: known, status: 'duplicate', commands_generated: 0 });
          continue;
        }
        try {
          const p = await this.prepare(tx, req, resolve);
          started.push({ ...p, req });
          if (req.dedupKey !== undefined) existing.set(req.dedupKey, p.executionId);
          outcomes.push({
            execution_id: p.executionId,
            status: 'started',
            commands_generated: p.decision.commands.length,
          });
        } catch (error) {
          outcomes.push({ error });
        }
      }
      if (started.length > 0) {
        await tx.events.append({
          executions: started.map(({ executionId, entry, req }) => ({
            executionId,
            catalogId: entry.catalogId,
            path: entry.path,
            ...(req.parentExecutionId !== undefined ? { parentExecutionId: req.parentExecutionId } : {}),
            ...(req.dedupKey !== undefined ? { idempotencyKey: req.dedupKey } : {}),
          })),
          events: started.flatMap((p) => p.decision.events.map((e) => toEventInput(e))),
          commands: started.flatMap((p) => p.decision.commands.map(toCommandInput)),
        });
      }
      return { outcomes, started };
    };
    let out: Awaited<ReturnType<typeof run>>;
    try {
      out =
        windows.size > 0
          ? await this.deps.store.withLock([...windows.keys()], run)
          : await this.deps.store.tx(run);
    } catch (err) {
      // The store unreachable (or the commit's fate unknown): starting each now could start
      // twice what the batch may have committed; every request reports the error instead.
      if (isRetryableDbError(err)) return reqs.map(() => ({ error: err }));
      this.deps.logger.warn(
        { err: errorMessage(err), count: reqs.length },
        'batch execute: starting each on its own',
      );
      const outcomes: BatchOutcome[] = [];
      for (const req of reqs) {
        try {
          outcomes.push(await this.execute(req));
        } catch (error) {
          outcomes.push({ error });
        }
      }
      return outcomes;
    }
    const byPool = new Map<string, Command[]>();
    for (const p of out.started) {
      const last = p.decision.events[p.decision.events.length - 1]!;
      this.live.start(p.executionId, p.state, last.event_id, p.decision.events.length);
      this.live.settled(p.executionId);
      const list = byPool.get(p.pool) ?? [];
      list.push(...p.decision.commands);
      byPool.set(p.pool, list);
    }
    await Promise.all([...byPool].map(([pool, commands]) => this.publish(commands, pool)));
    return out.outcomes;
  }

  /**
   * `POST /api/events[/batch]`: appends worker events; on a trigger (`command.completed`,
   * `command.failed`) decides what follows, in the same transaction. A repeated event changes
   * nothing. The usual batch (events of one command, its completion last) is written with its
   * decision in one statement; should it repeat stored events after all, it is rolled back and
   * ingested event by event.
   */
  async ingest(executionId: string, wire: readonly WireEvent[], take?: TakeRequest): Promise<IngestResult> {
    const startedMs = this.deps.clock.now();
    const plan = planIngest(wire);
    // Queued commands this ingest's takes reserved (a body run again reserves more): each ends
    // claimed once the transaction committed, or released.
    const reserved = new Set<string>();
    const run = (p: typeof plan) =>
      this.withExecution(executionId, async (tx, live) => {
        const wants = take !== undefined && take.max > 0 ? take : undefined;
        const ingested = await ingestBatch(
          this.ingestDeps,
          tx,
          live,
          executionId,
          wire,
          p,
          wants ? (commands) => this.claimOnWrite(live, commands, wants) : undefined,
          (rest, claimed) => wants !== undefined && rest > 0 && wants.max > claimed,
        );
        const own: Taken[] = ingested.claimed.map((t) => {
          this.live.foldClaim(t.claim);
          return t;
        });
        const rest = ingested.commands.filter((c) => !own.some((t) => t.command === c));
        const taken =
          wants !== undefined && rest.length > 0 && wants.max > own.length
            ? await this.take(tx, live, rest, { ...wants, max: wants.max - own.length }, reserved)
            : [];
        return { ...ingested, taken: [...own, ...taken] };
      });
    let result: Awaited<ReturnType<typeof run>>;
    try {
      try {
        result = await run(plan);
      } catch (err) {
        if (!(err instanceof RepeatedEvents)) throw err;
        result = await run('each');
      }
    } finally {
      for (const id of reserved) this.backlog.release(id);
    }
    const { commands, taken } = result.value;
    const ownIds = new Set<string>();
    const claimed: TakenCommand[] = [];
    for (const t of taken) {
      if (t.command !== undefined) {
        ownIds.add(t.command.event_id);
        claimed.push({
          claim: t.claim,
          executionPool: t.command.execution_pool ?? result.pool,
          ...(this.deps.tracing ? this.traceOf(t.command) : {}),
        });
        continue;
      }
      // A queued command (of this execution or another), claimed in this transaction: now
      // committed, its cached state takes the claim and its notification leaves the bus.
      const c = t.claim.command;
      this.live.foldClaim(t.claim);
      const receipt = this.backlog.claimed(c.commandId); // its reservation ends with it
      if (receipt !== undefined) void this.deps.bus.withdraw(receipt);
      const state = this.deps.tracing ? this.live.peek(c.executionId)?.state : undefined;
      claimed.push({
        claim: t.claim,
        executionPool: resolvePool(c.executionPool ? { execution_pool: c.executionPool } : {}),
        ...(state ? { trace: stepTrace(state, c.executionId, c.stepName) } : {}),
      });
    }
    await this.publish(
      ownIds.size > 0 ? commands.filter((c) => !ownIds.has(c.event_id)) : commands,
      result.pool,
    );
    if (this.deps.tracing) this.traceIngest(executionId, wire, result.value.events, startedMs);
    return {
      event_ids: result.value.eventIds,
      commands_generated: commands.length,
      duplicates: result.value.duplicates,
      ...(claimed.length > 0 ? { claimed } : {}),
    };
  }

  /**
   * Hands the posting worker up to `take.max` commands, claimed inside the ingest's transaction
   * through the store's claim statement (the exactly-once gate, `command.claimed` and all). First
   * in, first out: while the pool has published commands waiting, the worker gets the oldest of
   * them (any execution's) and the decision's new command is published behind them; otherwise it
   * gets the new command itself, folded into the cached state as `claim` folds it. A command the
   * gate refuses is left to the bus.
   */
  private async take(
    tx: StoreTx,
    live: LiveExecution,
    commands: readonly Command[],
    take: TakeRequest,
    reserved: Set<string>,
  ): Promise<Taken[]> {
    if (live.state.status !== 'RUNNING') return [];
    const pool = live.state.executionPool ?? 'shared';
    const taken: Taken[] = [];
    for (const command of commands) {
      if (taken.length >= take.max) break;
      const target = poolOf(command.execution_pool ?? pool);
      if (target === undefined || (take.pool !== undefined && target !== take.pool)) continue;
      const queued = await this.takeQueued(tx, target, take.workerId, reserved);
      if (queued !== undefined) {
        taken.push({ claim: queued });
        continue;
      }
      const claim = await this.tryClaim(tx, command.event_id, take.workerId);
      if (claim === undefined || claim === null) continue;
      this.live.foldClaim(claim);
      taken.push({ command, claim });
    }
    return taken;
  }

  /**
   * The take's pick among a decision's new commands, to be written already claimed (one
   * statement less than the claim after the append; the take below does what it cannot): the
   * first of the worker's pool while the execution runs, unless commands of that pool wait in
   * the queue, which the take hands over first.
   */
  private claimOnWrite(
    live: LiveExecution,
    commands: readonly Command[],
    take: TakeRequest,
  ): CommandClaim | undefined {
    if (live.state.status !== 'RUNNING') return undefined;
    const pool = live.state.executionPool ?? 'shared';
    for (const command of commands) {
      const target = poolOf(command.execution_pool ?? pool);
      if (target === undefined || (take.pool !== undefined && target !== take.pool)) continue;
      if (this.backlog.waitingIn(target) > 0) return undefined;
      return { commandId: command.event_id, workerId: take.workerId, eventId: this.deps.ids.next() };
    }
    return undefined;
  }

  /**
   * The oldest command waiting in `pool` that the gate lets `workerId` claim, if any. Each one
   * tried is reserved, so concurrent takes try different ones instead of queueing on one
   * claim's lock.
   */
  private async takeQueued(
    tx: StoreTx,
    pool: string,
    workerId: string,
    reserved: Set<string>,
  ): Promise<ClaimResult | undefined> {
    for (let i = 0; i < QUEUED_TRIES; i++) {
      const id = this.backlog.reserveOldest(pool);
      if (id === undefined) return undefined;
      reserved.add(id);
      const claim = await this.tryClaim(tx, id, workerId);
      if (claim !== undefined && claim !== null) return claim;
      // Claimed elsewhere, finished or cancelled: not waiting any more. A claim in progress
      // (a worker's, through the claim route) is left to end as it will.
      if (claim === null) {
        reserved.delete(id);
        this.backlog.claimed(id);
      }
    }
    return undefined;
  }

  /**
   * The claim statement. Undefined when the gate refuses because another claim of it is in
   * progress, null when it refuses for good (claimed, finished, cancelled, unknown); the
   * transaction stays usable either way.
   */
  private async tryClaim(
    tx: StoreTx,
    commandId: string,
    workerId: string,
  ): Promise<ClaimResult | null | undefined> {
    try {
      const claim = await tx.commands.claim(commandId, workerId);
      return claim.alreadyClaimed ? null : claim;
    } catch (err) {
      if (!(err instanceof NoetlError) || (err.code !== 'CONFLICT' && err.code !== 'NOT_FOUND')) throw err;
      return err.details?.['reason'] === 'claim_in_progress' ? undefined : null;
    }
  }

  /** The trace a command's notification would carry (traces on). */
  private traceOf(command: Command): { trace?: JsonObject } {
    const state = this.live.peek(command.execution_id)?.state;
    return state ? { trace: commandTrace(state, command) } : {};
  }

  /**
   * `POST /api/commands/{id}/claim`: the store's exactly-once gate; the claim event is folded
   * into the cached state at once, so the decision on the command's completion need not read
   * it back.
   */
  async claim(commandId: string, workerId: string): Promise<ClaimResult> {
    const result = await this.deps.store.commands.claim(commandId, workerId);
    this.backlog.claimed(commandId);
    this.live.foldClaim(result);
    return result;
  }

  /**
   * Runs `fn` with the execution's state under its lock, in one transaction; a failure drops
   * the cached state (it may hold folds of events that were rolled back). So does a retry: the
   * store runs the body again after a connection lost before COMMIT, and the state the first
   * run folded (events and decisions now rolled back) must not be decided on again.
   */
  async withExecution<T>(
    executionId: string,
    fn: (tx: StoreTx, live: LiveExecution) => Promise<T>,
  ): Promise<{ value: T; pool: string }> {
    let runs = 0;
    let release: (() => void) | undefined;
    try {
      const out = await this.deps.store.withExecutionLock(
        executionId,
        async (tx, head) => {
          // readers outside the lock wait until what this folds is committed or dropped
          release ??= this.live.hold(executionId);
          if (runs++ > 0) {
            this.live.forget(executionId);
            this.live.contend(executionId);
          }
          const live = await this.live.require(tx, executionId, head);
          this.deps.ids.observe?.(live.lastEventId);
          const value = await fn(tx, live);
          return { value, pool: live.state.executionPool ?? 'shared' };
        },
        () => this.live.expectedCount(executionId),
      );
      this.live.settled(executionId);
      return out;
    } catch (err) {
      this.live.forget(executionId);
      throw err;
    } finally {
      release?.();
    }
  }

  /**
   * Publishes notifications of committed commands (marked published off the request path).
   * With traces on, each carries its step span as `trace.traceparent`, the parent of the
   * worker's tool span.
   */
  publish(commands: readonly Command[], pool: string): Promise<void> {
    for (const c of commands) {
      const target = poolOf(c.execution_pool ?? pool);
      if (target !== undefined) this.backlog.published([c.event_id], target);
    }
    if (!this.deps.tracing || commands.length === 0) return this.publisher.publish(commands, pool);
    const traces = new Map<Command, JsonObject>();
    for (const c of commands) {
      const state = this.live.peek(c.execution_id)?.state;
      if (state) traces.set(c, commandTrace(state, c));
    }
    return this.publisher.publish(commands, pool, (c) => traces.get(c));
  }

  /**
   * Records the spans a committed ingest ended (steps, the execution) and, when the worker
   * named its tool span, the server's handling of the events as that span's child.
   */
  private traceIngest(
    executionId: string,
    wire: readonly WireEvent[],
    events: readonly ExecutionEvent[],
    startedMs: number,
  ): void {
    this.traceEnded(executionId, events);
    const parent = postedTraceparent(wire);
    const last = wire[wire.length - 1];
    if (!parent || !this.deps.tracing) return;
    this.deps.tracing.record({
      name: `ingest ${last?.event_type ?? last?.name ?? 'events'}`,
      ref: { traceId: parent.traceId, spanId: randomBytes(8).toString('hex') },
      parent,
      kind: 'server',
      startMs: startedMs,
      endMs: this.deps.clock.now(),
      attributes: { 'noetl.execution_id': executionId, 'noetl.events': wire.length },
    });
  }

  /** Records the spans that committed events ended. */
  private traceEnded(executionId: string, events: readonly ExecutionEvent[]): void {
    const tracing = this.deps.tracing;
    const state = this.live.peek(executionId)?.state;
    if (!tracing || !state || events.length === 0) return;
    for (const span of endedSpans(state, events)) tracing.record(span);
  }

  /** Marks published commands in the store (also on shutdown). */
  flushPublished(): Promise<void> {
    return this.publisher.flush();
  }

  /** Publishes notifications for stored command rows again (sweeps, release). */
  republish(commands: readonly CommandRecord[]): Promise<number> {
    if (!this.deps.tracing) return this.publisher.republish(commands);
    // The step span, when this replica holds the execution's state (else the worker's tool span
    // hangs under the execution's span).
    return this.publisher.republish(commands, (c) => {
      const state = this.live.peek(c.executionId)?.state;
      return state ? stepTrace(state, c.executionId, c.stepName) : undefined;
    });
  }

  /** `POST /api/executions/{id}/cancel`: `playbook_cancelled`; with `cascade`, children too. */
  async cancel(executionId: string, reason: string, cascade: boolean): Promise<{ cancelled: string[] }> {
    const { value } = await this.withExecution(executionId, async (tx, live) => {
      if (live.state.status !== 'RUNNING') {
        throw new ConflictError(`execution ${executionId} is already ${live.state.status}`, {
          details: { status: live.state.status },
        });
      }
      const decision = cancelExecution(live.state, reason, this.engine);
      await persistDecision(this.ingestDeps, tx, live, decision);
      return decision.events;
    });
    this.traceEnded(executionId, value);
    const cancelled = [executionId];
    if (cascade) {
      const children = await this.deps.store.executions.list({
        parentExecutionId: executionId,
        status: 'RUNNING',
      });
      for (const child of children) {
        try {
          cancelled.push(
            ...(await this.cancel(child.executionId, `parent ${executionId} cancelled`, true)).cancelled,
          );
        } catch (err) {
          if (!(err instanceof ConflictError)) throw err;
        }
      }
    }
    return { cancelled };
  }

  /** `POST /api/executions/{id}/finalize`: a terminal event written by an operator. */
  async finalize(executionId: string, status: 'COMPLETED' | 'FAILED', error?: string): Promise<string> {
    const { value } = await this.withExecution(executionId, async (tx, live) => {
      if (live.state.status !== 'RUNNING') return live.state.status;
      const type = status === 'COMPLETED' ? 'playbook.completed' : 'playbook.failed';
      const event: ExecutionEvent = {
        execution_id: executionId,
        event_id: this.deps.ids.next(),
        event_type: type,
        node_name: 'playbook',
        node_type: 'execution',
        status,
        created_at: this.now(),
        meta: { status, finalized: true, ...(error !== undefined ? { error } : {}) },
        ...(error !== undefined ? { error } : {}),
      };
      const appended = await tx.events.append({ events: [toEventInput(event)] });
      this.live.fold(live, event, event.event_id);
      this.live.appended(live, appended.events.filter((e) => e.inserted).length);
      return status;
    });
    return value;
  }

  /**
   * `POST /api/executions/{id}/rerun` (beyond NoETL): a new execution of the same playbook
   * version that reuses the results of the steps that completed and runs the failed ones again.
   */
  async rerun(executionId: string, payload?: Readonly<Record<string, unknown>>): Promise<ExecuteResponse> {
    // As committed (a decision may be folding into the cached state): the execution has ended,
    // so nothing changes it any more unless it is still running, which is refused.
    const prev = await this.live.readCommitted(this.deps.store, executionId, (l) => l.state);
    const out = await this.deps.store.tx(async (tx) => {
      if (prev.status === 'RUNNING') {
        throw new ConflictError(`execution ${executionId} is still running; cancel it first`);
      }
      if (!prev.catalogId) throw new NoetlError('INTERNAL', `execution ${executionId} has no catalog id`);
      const playbook: Playbook = prev.playbook;
      const newId = this.deps.ids.next();
      const workload = { ...prev.workload, ...(payload ?? {}) };
      // a workload value that could not render stays so, unless the new payload gives it
      const workloadErrors = Object.fromEntries(
        Object.entries(prev.workloadErrors).filter(([key]) => !Object.hasOwn(payload ?? {}, key)),
      );
      // A completed execution runs again from the start; a failed or cancelled one resumes.
      const resume =
        prev.status === 'COMPLETED'
          ? startExecution
          : (pb: Playbook, o: StartOptions, d: EngineDeps) => resumeExecution(pb, prev, o, d);
      const { state, decision } = resume(
        playbook,
        {
          executionId: newId,
          workload,
          workloadErrors,
          catalogId: prev.catalogId,
          path: prev.path,
          ...(prev.version !== undefined ? { version: prev.version } : {}),
          ...(prev.executionPool !== undefined ? { executionPool: prev.executionPool } : {}),
          ...(prev.parentExecutionId !== undefined ? { parentExecutionId: prev.parentExecutionId } : {}),
        },
        this.engine,
      );
      const appended = await tx.events.append({
        execution: {
          executionId: newId,
          catalogId: prev.catalogId,
          path: prev.path,
        },
        events: decision.events.map((e) => toEventInput(e)),
        commands: decision.commands.map(toCommandInput),
      });
      this.live.start(
        newId,
        state,
        decision.events[decision.events.length - 1]!.event_id,
        appended.events.length,
      );
      return { id: newId, commands: decision.commands, pool: prev.executionPool ?? 'shared' };
    });
    this.live.settled(out.id);
    await this.publish(out.commands, out.pool);
    return { execution_id: out.id, status: 'started', commands_generated: out.commands.length };
  }
}

/** The pool a command's notification is routed to (undefined: a name the bus refuses). */
function poolOf(executionPool: string): string | undefined {
  try {
    return resolvePool({ execution_pool: executionPool });
  } catch {
    return undefined;
  }
}

/**
 * A child playbook path written as a file (`./x.yaml`, `../a/b.yml`, `sub/c.yaml`) as a catalog
 * path relative to the parent's (`a/parent` + `./children/x.yaml` = `a/children/x`); undefined
 * when the path is not written as a relative file.
 */
export function childCatalogPath(parentPath: string, path: string): string | undefined {
  const isFile = path.startsWith('./') || path.startsWith('../') || /\.ya?ml$/.test(path);
  if (!isFile || path.startsWith('/')) return undefined;
  const parts = parentPath.split('/').slice(0, -1);
  for (const segment of path.replace(/\.ya?ml$/, '').split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') parts.pop();
    else parts.push(segment);
  }
  return parts.length > 0 ? parts.join('/') : undefined;
}
