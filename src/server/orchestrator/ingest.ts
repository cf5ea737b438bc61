import {
  canonicalEventType,
  decide,
  TRIGGER_EVENT_TYPES,
  type Command,
  type Decision,
  type EngineDeps,
  type ExecutionEvent,
} from '../../engine/index.js';
import { NoetlError, SANITIZED_NOTE, storableValue, type IdGenerator } from '../../shared/index.js';
import type { ClaimResult, CommandClaim, EventInput, StoreTx } from '../../store/index.js';
import type { LiveExecution, LiveExecutions } from './live.js';
import { toCommandInput, toEventInput } from './mapping.js';
import { normalizeWireEvent, type WireEvent } from './wire.js';

/** What ingesting needs of the orchestrator. */
export interface IngestDeps {
  readonly live: LiveExecutions;
  readonly engine: EngineDeps;
  readonly ids: IdGenerator;
  now(): string;
}

export interface Ingested {
  readonly eventIds: string[];
  readonly commands: Command[];
  readonly duplicates: number;
  /** The new events, the worker's and the decisions', as folded (traces read what they end). */
  readonly events: ExecutionEvent[];
  /** Commands of `commands` written already claimed (`ClaimOnWrite`), their claims not yet folded. */
  readonly claimed: readonly { readonly command: Command; readonly claim: ClaimResult }[];
}

/**
 * Which of a decision's new commands to write already claimed, and for whom (the posting
 * worker's take, when nothing queued comes first); undefined: none.
 */
export type ClaimOnWrite = (commands: readonly Command[]) => CommandClaim | undefined;

/** How a batch of worker events is written (see `ingestBatch`). */
export type IngestPlan = 'plain' | 'decide-last' | 'each';

/**
 * Thrown inside the transaction when an event of a `decide-last` batch was already there: the
 * decision made on it must not stand, so the transaction rolls back and the batch is ingested
 * `each` (the cached state, which folded the batch, is dropped by the rollback).
 */
export class RepeatedEvents extends Error {
  constructor() {
    super('the batch repeats stored events');
  }
}

function isTrigger(wire: WireEvent): boolean {
  const type = canonicalEventType(wire.event_type ?? wire.name ?? '');
  return type !== undefined && TRIGGER_EVENT_TYPES.has(type);
}

/**
 * - `plain`: no trigger; the events are appended in one statement, the new ones folded.
 * - `decide-last`: one trigger, the last event (what a worker posts: `command.started`,
 *   `call.done`, `command.completed`): the decision is made first, on the premise that every
 *   event is new, and written with the events in one statement.
 * - `each`: anything else, event by event, each trigger's decision written after it.
 */
export function planIngest(wire: readonly WireEvent[]): IngestPlan {
  const triggers = wire.filter(isTrigger).length;
  if (triggers === 0) return 'plain';
  return triggers === 1 && isTrigger(wire[wire.length - 1]!) ? 'decide-last' : 'each';
}

/**
 * A posted event as it can be stored: NUL bytes and lone surrogates (which PostgreSQL refuses,
 * so the event could never be written and its command never finish) become U+FFFD, and the
 * event's `meta.sanitized` says so. Live state and the stored log get the same text.
 */
export function sanitizeWireEvent(w: WireEvent): WireEvent {
  const clean = storableValue(w);
  if (clean === w) return w;
  return { ...clean, meta: { ...(clean.meta ?? {}), sanitized: SANITIZED_NOTE } };
}

function normalize(
  deps: IngestDeps,
  executionId: string,
  w: WireEvent,
): { event: ExecutionEvent; input: EventInput } {
  const { event, idempotencyKey } = normalizeWireEvent(sanitizeWireEvent(w), deps.ids.next(), deps.now());
  if (event.execution_id !== executionId) {
    throw new NoetlError('BAD_REQUEST', 'all events of a batch must belong to one execution');
  }
  return { event, input: toEventInput(event, idempotencyKey) };
}

/** Appends worker events under the execution's lock, with the decisions they trigger. */
export async function ingestBatch(
  deps: IngestDeps,
  tx: StoreTx,
  live: LiveExecution,
  executionId: string,
  wire: readonly WireEvent[],
  plan: IngestPlan,
  claimOnWrite?: ClaimOnWrite,
  takeAfter?: (rest: number, claimed: number) => boolean,
): Promise<Ingested> {
  if (plan === 'each') return ingestEach(deps, tx, live, executionId, wire);
  const normalized = wire.map((w) => normalize(deps, executionId, w));
  const events = normalized.map((n) => n.input);
  if (plan === 'plain') {
    const appended = await tx.events.append({ events });
    let duplicates = 0;
    const folded: ExecutionEvent[] = [];
    for (const [i, stored] of appended.events.entries()) {
      if (!stored.inserted) {
        duplicates++;
        continue;
      }
      deps.live.fold(live, normalized[i]!.event, stored.eventId);
      deps.live.appended(live, 1);
      folded.push(normalized[i]!.event);
    }
    return {
      eventIds: appended.events.map((e) => e.eventId),
      commands: [],
      duplicates: duplicates,
      events: folded,
      claimed: [],
    };
  }
  for (const n of normalized) deps.live.fold(live, n.event, n.event.event_id);
  const trigger = normalized[normalized.length - 1]!.event;
  const decision = decide(live.state, trigger, deps.engine);
  const claim = decision.commands.length > 0 ? claimOnWrite?.(decision.commands) : undefined;
  const claimed = claim ? 1 : 0;
  // Unless the caller claims more after it, the append is the transaction's last statement:
  // the store may send COMMIT with it (a repeated event then rolls it back, as below).
  const last = takeAfter?.(decision.commands.length - claimed, claimed) !== true;
  const appended = await tx.events.append({
    events: [...events, ...decision.events.map((e) => toEventInput(e))],
    commands: decision.commands.map(toCommandInput),
    ...(claim ? { claims: [claim] } : {}),
    ...(last ? { last } : {}),
    fresh: true,
  });
  if (appended.events.some((e) => !e.inserted)) throw new RepeatedEvents();
  for (const e of decision.events) deps.live.fold(live, undefined, e.event_id);
  // The claims' events are in the log too (their folds are the caller's, as a claim's are).
  deps.live.appended(live, appended.events.length + (appended.claimed?.length ?? 0));
  return {
    eventIds: appended.events.slice(0, events.length).map((e) => e.eventId),
    commands: decision.commands,
    duplicates: 0,
    events: [...normalized.map((n) => n.event), ...decision.events],
    claimed: (appended.claimed ?? []).map((c) => ({
      command: decision.commands.find((d) => d.event_id === c.command.commandId)!,
      claim: c,
    })),
  };
}

/** Event by event: a repeated event changes nothing, each new trigger decides. */
async function ingestEach(
  deps: IngestDeps,
  tx: StoreTx,
  live: LiveExecution,
  executionId: string,
  wire: readonly WireEvent[],
): Promise<Ingested> {
  const eventIds: string[] = [];
  const commands: Command[] = [];
  const events: ExecutionEvent[] = [];
  let duplicates = 0;
  for (const w of wire) {
    const { event, input } = normalize(deps, executionId, w);
    const stored = (await tx.events.append({ events: [input] })).events[0]!;
    eventIds.push(stored.eventId);
    if (!stored.inserted) {
      duplicates++;
      continue;
    }
    deps.live.fold(live, event, event.event_id);
    deps.live.appended(live, 1);
    events.push(event);
    if (!TRIGGER_EVENT_TYPES.has(event.event_type)) continue;
    const decision = decide(live.state, event, deps.engine);
    await persistDecision(deps, tx, live, decision);
    commands.push(...decision.commands);
    events.push(...decision.events);
  }
  return { eventIds, commands, duplicates, events, claimed: [] };
}

/** Appends a decision's events and command rows (already folded by the engine). */
export async function persistDecision(
  deps: IngestDeps,
  tx: StoreTx,
  live: LiveExecution,
  decision: Decision,
): Promise<void> {
  if (decision.events.length === 0) return;
  const appended = await tx.events.append({
    events: decision.events.map((e) => toEventInput(e)),
    commands: decision.commands.map(toCommandInput),
  });
  for (const e of decision.events) deps.live.fold(live, undefined, e.event_id);
  deps.live.appended(live, appended.events.filter((e) => e.inserted).length);
}
