import { resolvePool, type CommandBus } from '../../bus/index.js';
import type { Playbook } from '../../dsl/index.js';
import {
  cancelExecution,
  decide,
  effectiveWorkload,
  resumeExecution,
  startExecution,
  TRIGGER_EVENT_TYPES,
  type Command,
  type Decision,
  type EngineDeps,
  type ExecutionEvent,
  type StartOptions,
} from '../../engine/index.js';
import {
  ConflictError,
  isoTime,
  NoetlError,
  NotFoundError,
  type Clock,
  type IdGenerator,
  type Logger,
} from '../../shared/index.js';
import type { TemplateRenderer } from '../../template/index.js';
import type { CatalogRecord, CommandRecord, Store, StoreTx } from '../../store/index.js';
import { LiveExecutions, type LiveExecution } from './live.js';
import { notificationFor, toCommandInput, toEventInput } from './mapping.js';
import { normalizeWireEvent, type WireEvent } from './wire.js';

export interface OrchestratorDeps {
  readonly store: Store;
  readonly bus: CommandBus;
  readonly ids: IdGenerator;
  readonly clock: Clock;
  readonly templates: TemplateRenderer;
  readonly logger: Logger;
  /** Put into notifications so workers know where to claim. */
  readonly serverUrl: string;
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
}

const DEFAULT_DEDUP_WINDOW_MS = 24 * 3600 * 1000;

/**
 * The bus de-dup id of a re-publish. The bus drops a publish whose id it saw within its window
 * (JetStream: 2 minutes), and the first publish used the command id. So:
 * - never published, first attempt (crash between commit and publish): the command id, so a
 *   publish that did reach the stream is not stored twice;
 * - released by the reaper or a stopping worker (attempt + 1, published_at cleared): one id per
 *   attempt, or the re-issue would be dropped and the command would wait minutes;
 * - published but never claimed (the stream's copy is presumed lost): one id per sweep round.
 * The ids are derived from the row, so replicas sweeping the same row publish it once.
 */
function republishDedupId(c: CommandRecord): string | undefined {
  if (c.publishedAt === null) return c.attempt <= 1 ? undefined : `${c.commandKey}#${c.attempt}`;
  return `${c.commandKey}#${c.attempt}@${Date.parse(c.publishedAt)}`;
}

/**
 * Drives executions on the server (DESIGN.md section 3): every write for one execution happens
 * under that execution's lock in one transaction (events, decisions and command rows together),
 * then the new commands' notifications are published. A crash between commit and publish is
 * repaired by the outbox sweep (sweeps.ts).
 */
export class Orchestrator {
  readonly live = new LiveExecutions();
  private readonly engine: EngineDeps;

  constructor(readonly deps: OrchestratorDeps) {
    this.engine = { ids: deps.ids, clock: deps.clock, templates: deps.templates };
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
    const entry = await tx.catalog.getByPath(req.path, req.version ?? 'latest');
    if (!entry) {
      throw new NotFoundError(
        `playbook '${req.path}'${typeof req.version === 'number' ? ` version ${req.version}` : ''} is not in the catalog`,
      );
    }
    return entry;
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
      const entry = await this.resolveCatalog(tx, req);
      if (entry.kind !== 'playbook') {
        throw new NoetlError('BAD_REQUEST', `catalog entry ${entry.path} is a ${entry.kind}, not a playbook`);
      }
      const playbook = await this.live.playbook(tx, entry.catalogId);
      const executionId = this.deps.ids.next();
      const workload = effectiveWorkload(playbook, req.payload ?? {}, this.deps.templates);
      const pool = resolvePool({
        ...(req.executionPool !== undefined ? { execution_pool: req.executionPool } : {}),
        path: entry.path,
      });
      const { state, decision } = startExecution(
        playbook,
        {
          executionId,
          workload,
          catalogId: entry.catalogId,
          path: entry.path,
          version: String(entry.version),
          executionPool: pool,
          ...(req.parentExecutionId !== undefined ? { parentExecutionId: req.parentExecutionId } : {}),
        },
        this.engine,
      );
      await tx.events.append({
        execution: {
          executionId,
          catalogId: entry.catalogId,
          path: entry.path,
          workload: workload as never,
          ...(req.parentExecutionId !== undefined ? { parentExecutionId: req.parentExecutionId } : {}),
          ...(req.dedupKey !== undefined ? { idempotencyKey: req.dedupKey } : {}),
        },
        events: decision.events.map((e) => toEventInput(e)),
        commands: decision.commands.map(toCommandInput),
      });
      const last = decision.events[decision.events.length - 1]!;
      this.live.remember(executionId, { state, lastEventId: last.event_id });
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
    await this.publish(out.commands, out.pool);
    return out.response;
  }

  /**
   * `POST /api/events[/batch]`: appends worker events; on a trigger (`command.completed`,
   * `command.failed`) decides what follows, in the same transaction. A repeated event changes
   * nothing.
   */
  async ingest(executionId: string, wire: readonly WireEvent[]): Promise<IngestResult> {
    const result = await this.withExecution(executionId, async (tx, live) => {
      const eventIds: string[] = [];
      const commands: Command[] = [];
      let duplicates = 0;
      for (const w of wire) {
        const { event, idempotencyKey } = normalizeWireEvent(w, this.deps.ids.next(), this.now());
        if (event.execution_id !== executionId) {
          throw new NoetlError('BAD_REQUEST', 'all events of a batch must belong to one execution');
        }
        const appended = await tx.events.append({ events: [toEventInput(event, idempotencyKey)] });
        const stored = appended.events[0]!;
        eventIds.push(stored.eventId);
        if (!stored.inserted) {
          duplicates++;
          continue;
        }
        this.live.fold(live, event, event.event_id);
        if (!TRIGGER_EVENT_TYPES.has(event.event_type)) continue;
        const decision = decide(live.state, event, this.engine);
        await this.persist(tx, live, decision);
        commands.push(...decision.commands);
      }
      return { eventIds, commands, duplicates };
    });
    await this.publish(result.value.commands, result.pool);
    return {
      event_ids: result.value.eventIds,
      commands_generated: result.value.commands.length,
      duplicates: result.value.duplicates,
    };
  }

  /** Appends a decision's events and command rows (already folded by the engine). */
  private async persist(tx: StoreTx, live: LiveExecution, decision: Decision): Promise<void> {
    if (decision.events.length === 0) return;
    await tx.events.append({
      events: decision.events.map((e) => toEventInput(e)),
      commands: decision.commands.map(toCommandInput),
    });
    for (const e of decision.events) this.live.fold(live, undefined, e.event_id);
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
    try {
      return await this.deps.store.withExecutionLock(executionId, async (tx) => {
        if (runs++ > 0) this.live.invalidate(executionId);
        const live = await this.live.require(tx, executionId);
        this.deps.ids.observe?.(live.lastEventId);
        const value = await fn(tx, live);
        return { value, pool: live.state.executionPool ?? 'shared' };
      });
    } catch (err) {
      this.live.invalidate(executionId);
      throw err;
    }
  }

  /**
   * Publishes notifications of committed commands. Marking them published is batched off the
   * request path (one UPDATE per flush): a command whose mark is lost in a crash is at worst
   * published again by the sweep, and the claim gate makes that harmless.
   */
  async publish(commands: readonly Command[], pool: string): Promise<void> {
    if (commands.length === 0) return;
    try {
      for (const c of commands) {
        await this.deps.bus.publish(notificationFor(c, this.deps.serverUrl, c.execution_pool ?? pool));
        this.published.push(c.event_id);
      }
    } catch (err) {
      this.deps.logger.warn({ err: String(err) }, 'publish failed; the outbox sweep will retry');
    }
    this.flushPublishedSoon();
  }

  private readonly published: string[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;

  private flushPublishedSoon(): void {
    if (this.flushTimer || this.published.length === 0) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      void this.flushPublished();
    }, 20);
  }

  /** Marks published commands in the store (also on shutdown). */
  async flushPublished(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.published.length === 0) return;
    const ids = this.published.splice(0, this.published.length);
    this.flushing = this.deps.store.commands
      .markPublished(ids)
      .then(() => undefined)
      .catch((err: unknown) => {
        this.deps.logger.warn(
          { err: String(err), commands: ids.length },
          'marking commands published failed',
        );
      })
      .finally(() => {
        this.flushing = undefined;
      });
    await this.flushing;
  }

  /** Publishes notifications for stored command rows again (sweeps, release). */
  async republish(commands: readonly CommandRecord[]): Promise<number> {
    const done: string[] = [];
    for (const c of commands) {
      const pool = resolvePool({ ...(c.executionPool ? { execution_pool: c.executionPool } : {}) });
      const dedupId = republishDedupId(c);
      await this.deps.bus.publish(
        notificationFor(
          { execution_id: c.executionId, event_id: c.commandId, command_id: c.commandKey, step: c.stepName },
          this.deps.serverUrl,
          pool,
        ),
        dedupId === undefined ? {} : { dedupId },
      );
      done.push(c.commandId);
    }
    if (done.length > 0) await this.deps.store.commands.markPublished(done);
    return done.length;
  }

  /** `POST /api/executions/{id}/cancel`: `playbook_cancelled`; with `cascade`, children too. */
  async cancel(executionId: string, reason: string, cascade: boolean): Promise<{ cancelled: string[] }> {
    const { value } = await this.withExecution(executionId, async (tx, live) => {
      if (live.state.status !== 'RUNNING') {
        throw new ConflictError(`execution ${executionId} is already ${live.state.status}`, {
          details: { status: live.state.status },
        });
      }
      await this.persist(tx, live, cancelExecution(live.state, reason, this.engine));
      return true;
    });
    void value;
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
      await tx.events.append({ events: [toEventInput(event)] });
      this.live.fold(live, event, event.event_id);
      return status;
    });
    return value;
  }

  /**
   * `POST /api/executions/{id}/rerun` (beyond NoETL): a new execution of the same playbook
   * version that reuses the results of the steps that completed and runs the failed ones again.
   */
  async rerun(executionId: string, payload?: Readonly<Record<string, unknown>>): Promise<ExecuteResponse> {
    const out = await this.deps.store.tx(async (tx) => {
      const previous = await this.live.require(tx, executionId);
      const prev = previous.state;
      if (prev.status === 'RUNNING') {
        throw new ConflictError(`execution ${executionId} is still running; cancel it first`);
      }
      if (!prev.catalogId) throw new NoetlError('INTERNAL', `execution ${executionId} has no catalog id`);
      const playbook: Playbook = prev.playbook;
      const newId = this.deps.ids.next();
      const workload = { ...prev.workload, ...(payload ?? {}) };
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
          catalogId: prev.catalogId,
          path: prev.path,
          ...(prev.version !== undefined ? { version: prev.version } : {}),
          ...(prev.executionPool !== undefined ? { executionPool: prev.executionPool } : {}),
          ...(prev.parentExecutionId !== undefined ? { parentExecutionId: prev.parentExecutionId } : {}),
        },
        this.engine,
      );
      await tx.events.append({
        execution: {
          executionId: newId,
          catalogId: prev.catalogId,
          path: prev.path,
          workload: workload as never,
        },
        events: decision.events.map((e) => toEventInput(e)),
        commands: decision.commands.map(toCommandInput),
      });
      this.live.remember(newId, {
        state,
        lastEventId: decision.events[decision.events.length - 1]!.event_id,
      });
      return { id: newId, commands: decision.commands, pool: prev.executionPool ?? 'shared' };
    });
    await this.publish(out.commands, out.pool);
    return { execution_id: out.id, status: 'started', commands_generated: out.commands.length };
  }
}
