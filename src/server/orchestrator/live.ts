import { parsePlaybook, type Playbook } from '../../dsl/index.js';
import { applyEvent, replay, type ExecutionEvent, type ExecutionState } from '../../engine/index.js';
import { compareIds, NoetlError, NotFoundError } from '../../shared/index.js';
import type { StoreTx } from '../../store/index.js';
import { fromEventRecord } from './mapping.js';

export interface LiveExecution {
  readonly state: ExecutionState;
  lastEventId: string;
}

const MAX_PLAYBOOKS = 500;
const MAX_LIVE = 5_000;

/**
 * Folded state of live executions, kept in memory (DESIGN.md section 2): a decision reads only
 * the events appended since it last looked (one indexed query), never the whole log. After a
 * restart an execution's state is rebuilt from its log on first use.
 */
export class LiveExecutions {
  private readonly live = new Map<string, LiveExecution>();
  private readonly playbooks = new Map<string, Playbook>();

  /** The parsed playbook of a catalog entry (cached: catalog versions are immutable). */
  async playbook(tx: StoreTx, catalogId: string): Promise<Playbook> {
    const hit = this.playbooks.get(catalogId);
    if (hit) return hit;
    const entry = await tx.catalog.get(catalogId);
    if (!entry) throw new NotFoundError(`catalog entry ${catalogId} not found`);
    const parsed = parsePlaybook(entry.content ?? '', { file: entry.path });
    if (!parsed.playbook) {
      throw new NoetlError('PLAYBOOK_INVALID', `playbook ${entry.path} v${entry.version} is not valid`, {
        details: { diagnostics: parsed.diagnostics },
      });
    }
    if (this.playbooks.size >= MAX_PLAYBOOKS) this.playbooks.clear();
    this.playbooks.set(catalogId, parsed.playbook);
    return parsed.playbook;
  }

  rememberPlaybook(catalogId: string, playbook: Playbook): void {
    this.playbooks.set(catalogId, playbook);
  }

  /** Current state of an execution, folding events other writers appended (claims, replicas). */
  async load(tx: StoreTx, executionId: string): Promise<LiveExecution | undefined> {
    const cached = this.live.get(executionId);
    if (cached) {
      const rows = await tx.events.list(executionId, { afterEventId: cached.lastEventId });
      for (const row of rows) this.fold(cached, fromEventRecord(row), row.eventId);
      return cached;
    }
    const rows = await tx.events.list(executionId);
    if (rows.length === 0) return undefined;
    const events: ExecutionEvent[] = [];
    for (const row of rows) {
      const e = fromEventRecord(row);
      if (e) events.push(e);
    }
    const started = events.find((e) => e.event_type === 'playbook_started');
    const catalogId = started?.catalog_id ?? (started?.context?.['catalog_id'] as string | undefined);
    if (!catalogId)
      throw new NoetlError('INTERNAL', `execution ${executionId} has no playbook_started event`);
    const playbook = await this.playbook(tx, catalogId);
    const live: LiveExecution = {
      state: replay(playbook, events),
      lastEventId: rows[rows.length - 1]!.eventId,
    };
    this.remember(executionId, live);
    return live;
  }

  /** Loads an execution or throws NOT_FOUND. */
  async require(tx: StoreTx, executionId: string): Promise<LiveExecution> {
    const live = await this.load(tx, executionId);
    if (!live) throw new NotFoundError(`execution ${executionId} not found`);
    return live;
  }

  remember(executionId: string, live: LiveExecution): void {
    if (this.live.size >= MAX_LIVE) {
      // Drop finished executions first; they are rebuilt from the log if asked for again.
      for (const [id, l] of this.live) if (l.state.status !== 'RUNNING') this.live.delete(id);
    }
    this.live.set(executionId, live);
  }

  /** Folds one event this process appended (or read back) into the cached state. */
  fold(live: LiveExecution, event: ExecutionEvent | undefined, eventId: string): void {
    if (event) applyEvent(live.state, event);
    if (compareIds(eventId, live.lastEventId) > 0) live.lastEventId = eventId;
  }

  forget(executionId: string): void {
    this.live.delete(executionId);
  }

  /** Drops everything cached (after a transaction that may have failed half-way). */
  invalidate(executionId: string): void {
    this.live.delete(executionId);
  }
}
