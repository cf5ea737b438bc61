import { parsePlaybook, type Playbook } from '../../dsl/index.js';
import { applyEvent, replay, type ExecutionEvent, type ExecutionState } from '../../engine/index.js';
import { compareIds, NoetlError, NotFoundError, type PlaybookLimits } from '../../shared/index.js';
import type { ClaimResult, EventRecord, ExecutionHead, StoreTx } from '../../store/index.js';
import { claimEventOf, fromEventRecord } from './mapping.js';

/** Where a claim event was folded from: its claim in this process, or a read of the log. */
type ClaimOrigin = 'claim' | 'read';

export interface LiveExecution {
  readonly state: ExecutionState;
  lastEventId: string;
  /**
   * Events of the log this cache accounts for: the log's count when it last read it under the
   * lock, plus what it appended or claimed since; -1 when unknown. Equal to the head's count
   * under the lock, nobody else has written: no read is needed.
   */
  knownCount: number;
  /** Recent claim events and where they were folded from, so none is folded twice. */
  readonly claims: Map<string, ClaimOrigin>;
}

/** Parsed playbooks kept (exported for tests). */
export const MAX_PLAYBOOKS = 500;
const MAX_LIVE = 5_000;
/**
 * Finished executions kept cached (late duplicates, reruns, status reads); older ones are dropped
 * and rebuilt from the log if asked for again, so a long-running server's cache stays small.
 */
const MAX_FINISHED = 256;
/** Claims remembered per execution: a claim's answer and a read race for a moment only. */
const MAX_CLAIMS = 256;
/** How long a reader waits for a moment no decision holds an execution before it replays the log. */
const READ_WAIT_MS = 2_000;
/** Reads a reader tries before it replays the log (each found the cache moved on meanwhile). */
const READ_TRIES = 5;

/** An execution's state replayed from its whole log, and the log's rows. */
interface Built {
  readonly state: ExecutionState;
  readonly rows: EventRecord[];
}

/** Runs a function in a transaction (the store). */
export interface TxRunner {
  tx<U>(fn: (tx: StoreTx) => Promise<U>): Promise<U>;
}

/** A replayed state that is not cached. */
function uncached({ state, rows }: Built): LiveExecution {
  return { state, lastEventId: rows[rows.length - 1]!.eventId, knownCount: -1, claims: new Map() };
}

function noteClaim(live: LiveExecution, eventId: string, origin: ClaimOrigin): void {
  live.claims.set(eventId, origin);
  if (live.claims.size > MAX_CLAIMS) {
    const oldest = live.claims.keys().next();
    if (oldest.done !== true) live.claims.delete(oldest.value);
  }
}

/**
 * Folded state of live executions, kept in memory (DESIGN.md section 2): a decision reads only
 * the events appended since it last looked (one indexed query), and none when the log's event
 * count shows that nobody else wrote; never the whole log. The claims of this process are
 * folded as they happen. After a restart an execution's state is rebuilt from its log on first
 * use.
 */
export class LiveExecutions {
  private readonly live = new Map<string, LiveExecution>();
  /** Finished executions in the order they finished (oldest first). */
  private readonly finished = new Set<string>();
  /** Executions another process writes to as well (`contend`). */
  private readonly contended = new Set<string>();
  private readonly playbooks = new Map<string, Playbook>();
  /** Executions a decision holds (folded, not committed yet), with a promise of its end. */
  private readonly holds = new Map<string, { count: number; done: Promise<void>; release: () => void }>();

  /** `limits`: the size limits of a playbook (NOETL_PLAYBOOK_MAX_*), the defaults when unset. */
  constructor(private readonly limits?: Partial<PlaybookLimits>) {}

  /**
   * The parsed playbook of a catalog entry (cached: catalog versions are immutable). The cache
   * holds the MAX_PLAYBOOKS most recently used; the least recently used leaves first.
   */
  async playbook(tx: StoreTx, catalogId: string): Promise<Playbook> {
    const hit = this.playbooks.get(catalogId);
    if (hit) {
      this.playbooks.delete(catalogId);
      this.playbooks.set(catalogId, hit);
      return hit;
    }
    const entry = await tx.catalog.get(catalogId);
    if (!entry) throw new NotFoundError(`catalog entry ${catalogId} not found`);
    const limits = this.limits;
    const parsed = parsePlaybook(entry.content ?? '', { file: entry.path, ...(limits ? { limits } : {}) });
    if (!parsed.playbook) {
      const tooLarge = parsed.diagnostics.find((d) => d.code === 'PLAYBOOK_TOO_LARGE');
      throw new NoetlError(
        tooLarge ? 'PLAYBOOK_TOO_LARGE' : 'PLAYBOOK_INVALID',
        `playbook ${entry.path} v${entry.version} is not valid${tooLarge ? `: ${tooLarge.message}` : ''}`,
        { details: { diagnostics: parsed.diagnostics } },
      );
    }
    if (this.playbooks.size >= MAX_PLAYBOOKS) {
      const oldest = this.playbooks.keys().next();
      if (oldest.done !== true) this.playbooks.delete(oldest.value);
    }
    this.playbooks.set(catalogId, parsed.playbook);
    return parsed.playbook;
  }

  rememberPlaybook(catalogId: string, playbook: Playbook): void {
    this.playbooks.set(catalogId, playbook);
  }

  /**
   * Current state of an execution, folding events other writers appended (claims, replicas).
   * With the `head` read under the execution's lock, a cache that accounts for every event
   * reads nothing.
   */
  async load(tx: StoreTx, executionId: string, head?: ExecutionHead): Promise<LiveExecution | undefined> {
    const cached = this.live.get(executionId);
    if (cached) {
      if (head !== undefined && head.eventCount === cached.knownCount) return cached;
      const rows = await tx.events.list(executionId, { afterEventId: cached.lastEventId });
      for (const row of rows) this.foldRead(cached, row);
      if (head !== undefined) cached.knownCount = head.eventCount;
      return cached;
    }
    const built = await this.build(tx, executionId);
    return built ? this.install(executionId, built, head?.eventCount ?? -1) : undefined;
  }

  /** Caches an execution's state replayed from its log. */
  private install(executionId: string, built: Built, knownCount: number): LiveExecution {
    const { state, rows } = built;
    const live = this.start(executionId, state, rows[rows.length - 1]!.eventId, knownCount);
    // A claim answered while this was read must not be folded again.
    const claims = rows.filter((r) => r.eventType === 'command.claimed').slice(-MAX_CLAIMS);
    for (const row of claims) noteClaim(live, row.eventId, 'read');
    return live;
  }

  /** An execution's state replayed from its whole log, undefined when it has no event. */
  private async build(tx: StoreTx, executionId: string): Promise<Built | undefined> {
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
    return { state: replay(playbook, events), rows };
  }

  /**
   * The state of an execution as committed, for readers outside its lock (status, summary,
   * result routes). A decision folds the events it appends into the cached state before its
   * transaction commits, and holds the execution (`hold`) until it has committed or rolled back.
   * A reader therefore waits until no decision holds it, reads what others appended since the
   * cache last looked, waits again for any decision that began meanwhile, and folds what it read
   * only when nobody moved the cache on meanwhile (else the cache answers as it now is): so a
   * reader never shows folds that are not committed (or never will be), nor folds the events a
   * decision folds. A reader takes no lock and holds nothing a decision waits for. After
   * READ_WAIT_MS without a quiet moment it replays the committed log instead, uncached.
   */
  async readCommitted<T>(store: TxRunner, executionId: string, view: (live: LiveExecution) => T): Promise<T> {
    for (let i = 0; i < READ_TRIES; i++) {
      if (!(await this.quiet(executionId, READ_WAIT_MS))) break;
      const cached = this.live.get(executionId);
      if (cached) {
        const from = cached.lastEventId;
        const rows = await store.tx((t) => t.events.list(executionId, { afterEventId: from }));
        // a decision that began meanwhile is waited for (checked again in this turn)
        if (!(await this.quiet(executionId, READ_WAIT_MS))) break;
        if (this.holds.has(executionId)) continue;
        const now = this.live.get(executionId);
        if (now === undefined) continue; // dropped after a failed decision
        // Moved on meanwhile, by a committed decision (which read the log under the lock) or
        // another reader: committed state, as of a moment this read overlapped.
        if (now !== cached || now.lastEventId !== from) return view(now);
        for (const row of rows) this.foldRead(cached, row);
        // what the log held was not counted: the next decision reads the head first
        if (rows.length > 0) cached.knownCount = -1;
        return view(cached);
      }
      const built = await store.tx((t) => this.build(t, executionId));
      if (!built) throw new NotFoundError(`execution ${executionId} not found`);
      if (this.holds.has(executionId) || this.live.has(executionId)) return view(uncached(built));
      return view(this.install(executionId, built, -1));
    }
    const built = await store.tx((t) => this.build(t, executionId));
    if (!built) throw new NotFoundError(`execution ${executionId} not found`);
    return view(uncached(built));
  }

  /**
   * Marks an execution held by a decision whose folds are not committed yet; the returned
   * function ends the hold (after the commit or the rollback). Holds nest.
   */
  hold(executionId: string): () => void {
    let h = this.holds.get(executionId);
    if (!h) {
      let release!: () => void;
      const done = new Promise<void>((resolve) => (release = resolve));
      h = { count: 0, done, release };
      this.holds.set(executionId, h);
    }
    h.count++;
    const held = h;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      if (--held.count > 0) return;
      this.holds.delete(executionId);
      held.release();
    };
  }

  /** Resolves true once no decision holds the execution, false after `timeoutMs` first. */
  private async quiet(executionId: string, timeoutMs: number): Promise<boolean> {
    if (!this.holds.has(executionId)) return true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => (timer = setTimeout(resolve, timeoutMs, false)));
    try {
      for (let h = this.holds.get(executionId); h; h = this.holds.get(executionId)) {
        if ((await Promise.race([h.done.then(() => true), timeout])) === false) return false;
      }
      return true;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Loads an execution or throws NOT_FOUND. */
  async require(tx: StoreTx, executionId: string, head?: ExecutionHead): Promise<LiveExecution> {
    const live = await this.load(tx, executionId, head);
    if (!live) throw new NotFoundError(`execution ${executionId} not found`);
    return live;
  }

  /** Caches a new execution's state; `knownCount`: the events its log holds (-1: unknown). */
  start(executionId: string, state: ExecutionState, lastEventId: string, knownCount: number): LiveExecution {
    if (this.live.size >= MAX_LIVE) {
      // Drop finished executions first; they are rebuilt from the log if asked for again.
      for (const [id, l] of this.live) if (l.state.status !== 'RUNNING') this.forget(id);
    }
    const live: LiveExecution = { state, lastEventId, knownCount, claims: new Map() };
    this.live.set(executionId, live);
    return live;
  }

  /** Folds one event this process appended (or read back) into the cached state. */
  fold(live: LiveExecution, event: ExecutionEvent | undefined, eventId: string): void {
    if (event) applyEvent(live.state, event);
    if (compareIds(eventId, live.lastEventId) > 0) live.lastEventId = eventId;
  }

  /** Counts events this process appended to the log. */
  appended(live: LiveExecution, count: number): void {
    if (live.knownCount >= 0) live.knownCount += count;
  }

  /**
   * Folds the event of a claim made in this process, so the next decision need not read it
   * back: when the claim's count of the log shows it is the only event the cache missed, the
   * cache accounts for it. Otherwise the next decision reads what it missed (from
   * `lastEventId`, which stays where it was so as not to skip other writers' events) and skips
   * this one.
   */
  foldClaim(claim: ClaimResult): void {
    const eventId = claim.claimEventId;
    if (claim.alreadyClaimed || eventId === null) return;
    const live = this.live.get(claim.command.executionId);
    if (!live) return;
    if (live.claims.has(eventId)) {
      live.claims.delete(eventId); // read back already
      return;
    }
    const event = claimEventOf(claim, eventId);
    if (event) applyEvent(live.state, event);
    noteClaim(live, eventId, 'claim');
    const count = claim.executionEventCount;
    // null: written with a decision's append, which counted it already
    if (count === null) return;
    // Else, when the cache missed other events too, their count is not known: the next
    // decision then reads the head before it decides (`expectedCount`).
    live.knownCount = live.knownCount === count - 1 ? count : -1;
  }

  private foldRead(live: LiveExecution, row: EventRecord): void {
    const origin = live.claims.get(row.eventId);
    if (origin === 'claim') {
      live.claims.delete(row.eventId); // folded when claimed
      this.fold(live, undefined, row.eventId);
      return;
    }
    this.fold(live, fromEventRecord(row), row.eventId);
    if (row.eventType === 'command.claimed') noteClaim(live, row.eventId, 'read');
  }

  /**
   * After a committed decision: a finished execution joins the finished ones, the oldest of
   * which leaves the cache.
   */
  settled(executionId: string): void {
    const live = this.live.get(executionId);
    if (!live || live.state.status === 'RUNNING' || this.finished.has(executionId)) return;
    this.finished.add(executionId);
    if (this.finished.size <= MAX_FINISHED) return;
    const oldest = this.finished.values().next();
    if (oldest.done === true) return;
    this.finished.delete(oldest.value);
    this.live.delete(oldest.value);
  }

  /**
   * The events the log holds if nobody but this process wrote since the cache last looked
   * (undefined: not cached, or the count is unknown). The store checks it against the head.
   */
  expectedCount(executionId: string): number | undefined {
    if (this.contended.has(executionId)) return undefined;
    const live = this.live.get(executionId);
    return live !== undefined && live.knownCount >= 0 ? live.knownCount : undefined;
  }

  /**
   * A decision on the execution ran twice: its expected count was stale (another process wrote
   * to its log) or its connection was lost. Its later decisions read the head before they
   * decide, so a second writer costs a read of what it wrote, not a replay of the whole log.
   */
  contend(executionId: string): void {
    if (this.contended.size >= MAX_LIVE) this.contended.clear();
    this.contended.add(executionId);
  }

  /** The cached state of an execution, as this process last saw it; nothing is read. */
  peek(executionId: string): LiveExecution | undefined {
    return this.live.get(executionId);
  }

  /** Executions cached (finished ones included). */
  get size(): number {
    return this.live.size;
  }

  /** Drops an execution's cached state (also after a transaction that may have failed half-way). */
  forget(executionId: string): void {
    this.live.delete(executionId);
    this.finished.delete(executionId);
  }
}
