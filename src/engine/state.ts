import type { Playbook, Step } from '../dsl/index.js';
import {
  addFrame,
  claimedRows,
  cursorDrained,
  cursorMetaOf,
  cursorRunOf,
  type CursorMeta,
  type CursorRun,
} from './cursor.js';
import { commandIdOf, payloadOf, type ExecutionEvent } from './events.js';
import { executionScope, lookupReference } from './scope.js';

export type StepStatus =
  'pending' | 'entered' | 'issued' | 'claimed' | 'started' | 'completed' | 'failed' | 'skipped';
export type ExecutionStatus = 'RUNNING' | 'COMPLETED' | 'FAILED' | 'CANCELLED';

const RUNNING: ReadonlySet<StepStatus> = new Set(['entered', 'issued', 'claimed', 'started']);

export function isRunning(status: StepStatus): boolean {
  return RUNNING.has(status);
}

export interface StepError {
  readonly message: string;
  readonly code: string;
}

/** One loop run of a step (contract 1.8). Results are kept by iteration index. */
export interface LoopRun {
  readonly enterEventId: string;
  readonly items: readonly unknown[];
  readonly iterator: string;
  readonly maxInFlight: number;
  /** Values of the arc `set` the step was entered with (applied to every iteration). */
  readonly arcSet?: Readonly<Record<string, unknown>>;
  /** Index of the next iteration to dispatch. */
  nextIndex: number;
  inFlight: number;
  completed: number;
  failed: number;
  readonly results: unknown[];
  firstError?: StepError;
  /** A cursor loop's slots (its items grow as claims return rows; `inFlight` counts claims too). */
  readonly cursor?: CursorRun;
}

export interface StepState {
  readonly name: string;
  status: StepStatus;
  /** Data of the latest completion (contract 1.12 unwrapped user data). */
  data: unknown;
  /** Template view of `data` (pipeline labels flattened, `.data` self-alias), built once. */
  view: unknown;
  error?: StepError;
  completionEventId?: string;
  enteredAt?: number;
  completedAt?: number;
  /** Number of times the step was entered (back-edges re-enter). */
  runs: number;
  loop?: LoopRun;
  /** `_context_updates` of the latest completion (policy-rule `set`). */
  contextUpdates?: Readonly<Record<string, unknown>>;
}

export interface CommandState {
  readonly commandId: string;
  readonly eventId: string;
  readonly step: string;
  readonly iterationIndex?: number;
  /** A cursor loop's claim or body command, and its slot. */
  readonly cursor?: CursorMeta;
  status: 'issued' | 'claimed' | 'started' | 'completed' | 'failed';
  workerId?: string;
  /** The tool result envelope from `call.done`. */
  result?: Readonly<Record<string, unknown>>;
}

export interface ExecutionState {
  readonly playbook: Playbook;
  /** Entry step: the default, or the one `playbook_started` records (`context.entry_step`). */
  entry: string;
  executionId: string;
  catalogId?: string;
  path: string;
  version?: string;
  parentExecutionId?: string;
  executionPool?: string;
  workload: Readonly<Record<string, unknown>>;
  /**
   * Workload keys whose template failed to render at start (`playbook_started`
   * `context.workload_errors`): left out of `workload`; a step that reads one fails with its error.
   */
  workloadErrors: Readonly<Record<string, { readonly code: string; readonly message: string }>>;
  /** Flat execution variables written by `set` (scope prefixes stripped), latest wins. */
  vars: Record<string, unknown>;
  /** Bumped whenever `vars` change (for cached views). */
  varsVersion: number;
  status: ExecutionStatus;
  error?: string;
  readonly steps: Map<string, StepState>;
  readonly commands: Map<string, CommandState>;
  /** Number of steps in a running status. */
  running: number;
  /** Failed steps whose failure no error arc handled. */
  readonly unhandledFailures: Set<string>;
  /** Barrier targets some upstream routed to, still waiting for the others. */
  readonly waiting: Set<string>;
  /** Step names in order of completion (repeats for re-entered steps). */
  readonly executed: string[];
  lastCompleted?: string;
  startedAt?: number;
  completedAt?: number;
  eventCount: number;
  /** `step.enter` events so far (the step budget counts them). */
  stepsEntered: number;
}

export function newExecutionState(playbook: Playbook, entry: string, executionId: string): ExecutionState {
  return {
    playbook,
    entry,
    executionId,
    path: playbook.metadata.path,
    workload: {},
    workloadErrors: {},
    vars: {},
    varsVersion: 0,
    status: 'RUNNING',
    steps: new Map(),
    commands: new Map(),
    running: 0,
    unhandledFailures: new Set(),
    waiting: new Set(),
    executed: [],
    eventCount: 0,
    stepsEntered: 0,
  };
}

export function stepState(state: ExecutionState, name: string): StepState {
  let s = state.steps.get(name);
  if (!s) {
    s = { name, status: 'pending', data: undefined, view: undefined, runs: 0 };
    state.steps.set(name, s);
  }
  return s;
}

export function stepDef(state: ExecutionState, name: string): Step | undefined {
  return state.playbook.steps.get(name);
}

function setStatus(state: ExecutionState, s: StepState, status: StepStatus): void {
  const was = RUNNING.has(s.status);
  const now = RUNNING.has(status);
  if (was && !now) state.running--;
  else if (!was && now) state.running++;
  s.status = status;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * The template view of a step's data (contract 1.12): a pipeline's labels are flattened to the
 * top level (last wins) while `step.label.field` still works; an object gets a `.data`
 * self-alias of that view unless it has its own `data` (as NoETL's server aliases the unwrapped,
 * flattened user data), so `{{ step.data.field }}` reads what `{{ step.field }}` reads.
 */
export function templateView(data: unknown, pipeline: boolean): unknown {
  if (!isRecord(data)) return data;
  let view: Record<string, unknown> = data;
  if (pipeline) {
    view = {};
    for (const value of Object.values(data)) if (isRecord(value)) Object.assign(view, value);
    Object.assign(view, data);
  }
  if (!Object.prototype.hasOwnProperty.call(view, 'data')) view = { ...view, data: view };
  return view;
}

function errorFrom(event: ExecutionEvent): StepError {
  const payload = payloadOf(event);
  const err = payload['error'];
  if (isRecord(err)) {
    return {
      message: typeof err['message'] === 'string' ? err['message'] : (event.error ?? 'step failed'),
      code: typeof err['code'] === 'string' ? err['code'] : 'STEP_FAILED',
    };
  }
  if (typeof err === 'string') return { message: err, code: 'STEP_FAILED' };
  return { message: event.error ?? 'step failed', code: 'STEP_FAILED' };
}

/** The last `created_at` parsed and its time: the events of one decision share one timestamp text. */
let lastCreatedAt: string | undefined;
let lastTime = 0;

function timeOf(event: ExecutionEvent): number {
  const text = event.created_at;
  if (text !== lastCreatedAt) {
    const t = Date.parse(text);
    lastCreatedAt = text;
    lastTime = Number.isNaN(t) ? 0 : t;
  }
  return lastTime;
}

function complete(
  state: ExecutionState,
  s: StepState,
  data: unknown,
  event: ExecutionEvent,
  externalized = false,
): void {
  const def = stepDef(state, s.name);
  setStatus(state, s, 'completed');
  s.data = data;
  // an externalized result's binding is flat already (its tasks' fields, `_ref`...)
  s.view = templateView(data, !s.loop && !externalized && def?.tool?.shape === 'pipeline');
  s.completionEventId = event.event_id;
  s.completedAt = timeOf(event);
  delete s.error;
  state.executed.push(s.name);
  state.lastCompleted = s.name;
}

function fail(state: ExecutionState, s: StepState, error: StepError, event: ExecutionEvent): void {
  setStatus(state, s, 'failed');
  s.error = error;
  s.completionEventId = event.event_id;
  s.completedAt = timeOf(event);
  state.executed.push(s.name);
  state.unhandledFailures.add(s.name);
}

function numberOr(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

/**
 * The end of a cursor loop's claim or body command (`error` when it failed). A claim's rows join
 * the loop; the loop ends once nothing of it is in flight and either something failed (no more
 * claims or rows are issued then) or every slot drained and ran its rows.
 */
function foldCursorEnd(
  state: ExecutionState,
  s: StepState,
  loop: LoopRun,
  record: CommandState,
  event: ExecutionEvent,
  error: StepError | undefined,
): void {
  const cursor = loop.cursor!;
  const slot = cursor.slots[record.cursor!.slot];
  if (!slot) return;
  loop.inFlight--;
  if (record.cursor!.phase === 'claim') {
    slot.claiming = false;
    const rows = error ? undefined : claimedRows(record.result?.['data']);
    if (rows) addFrame(cursor, slot, rows);
    else if (!error) {
      error = {
        code: 'LOOP_NOT_ITERABLE',
        message: `cursor loop step '${s.name}': the claim returned no rows (end it with RETURNING ...)`,
      };
    }
  } else {
    slot.inFlight--;
    if (!error) {
      loop.results[record.iterationIndex!] = record.result?.['data'] ?? null;
      loop.completed++;
      const updates = record.result?.['context_updates'];
      if (isRecord(updates)) s.contextUpdates = { ...s.contextUpdates, ...updates };
    }
  }
  if (error) {
    loop.failed++;
    loop.firstError ??= error;
  }
  if (loop.inFlight > 0) return;
  if (loop.failed > 0) fail(state, s, loop.firstError!, event);
  else if (cursorDrained(cursor)) complete(state, s, loop.results.slice(), event);
}

/** Folds one event into the state (contract 3.4). Deterministic, no I/O. */
export function applyEvent(state: ExecutionState, event: ExecutionEvent): void {
  state.eventCount++;
  if (event.node_name === '__orchestrate__') return;
  switch (event.event_type) {
    case 'playbook_started': {
      const ctx = event.context ?? {};
      const workload = ctx['workload'];
      state.workload = isRecord(workload) ? workload : {};
      const workloadErrors = ctx['workload_errors'];
      if (isRecord(workloadErrors)) state.workloadErrors = workloadErrors as ExecutionState['workloadErrors'];
      if (typeof ctx['catalog_id'] === 'string') state.catalogId = ctx['catalog_id'];
      if (typeof ctx['path'] === 'string') state.path = ctx['path'];
      if (typeof ctx['version'] === 'string') state.version = ctx['version'];
      if (typeof ctx['entry_step'] === 'string') state.entry = ctx['entry_step'];
      const meta = event.meta ?? {};
      if (typeof meta['execution_pool'] === 'string') state.executionPool = meta['execution_pool'];
      if (event.parent_execution_id) state.parentExecutionId = event.parent_execution_id;
      state.startedAt = timeOf(event);
      return;
    }
    case 'step.enter': {
      const ctx = event.context ?? {};
      // `items_from`: the loop's list is a value of the state as it was when the step entered.
      const items =
        typeof ctx['items_from'] === 'string'
          ? lookupReference(
              executionScope(
                state,
                isRecord(ctx['arc_set']) ? { ...ctx['arc_set'], ctx: ctx['arc_set'] } : undefined,
              ),
              ctx['items_from'],
            )
          : ctx['items'];
      const s = stepState(state, event.node_name);
      s.runs++;
      state.stepsEntered++;
      s.enteredAt = timeOf(event);
      delete s.loop;
      const cursor = cursorRunOf(ctx);
      if (cursor) {
        s.loop = {
          enterEventId: event.event_id,
          items: cursor.items,
          iterator: typeof ctx['iterator_var'] === 'string' ? ctx['iterator_var'] : 'item',
          maxInFlight: cursor.slots.length,
          nextIndex: 0,
          inFlight: 0,
          completed: 0,
          failed: 0,
          results: [],
          cursor,
          ...(isRecord(ctx['arc_set']) ? { arcSet: ctx['arc_set'] } : {}),
        };
      } else if (Array.isArray(items)) {
        s.loop = {
          enterEventId: event.event_id,
          items,
          iterator: typeof ctx['iterator_var'] === 'string' ? ctx['iterator_var'] : 'item',
          maxInFlight: Math.max(1, numberOr(ctx['max_in_flight'], 1)),
          nextIndex: 0,
          inFlight: 0,
          completed: 0,
          failed: 0,
          results: new Array<unknown>(items.length),
          ...(isRecord(ctx['arc_set']) ? { arcSet: ctx['arc_set'] } : {}),
        };
      }
      const handles = ctx['handles_failure_of'];
      if (typeof handles === 'string') state.unhandledFailures.delete(handles);
      state.waiting.delete(s.name);
      setStatus(state, s, 'entered');
      return;
    }
    case 'command.issued': {
      const commandId = commandIdOf(event);
      if (!commandId) return;
      const s = stepState(state, event.node_name);
      const idx = event.meta?.['iteration_index'];
      const cursor = s.loop?.cursor ? cursorMetaOf(event.meta) : undefined;
      const record: CommandState = {
        commandId,
        eventId: event.event_id,
        step: event.node_name,
        status: 'issued',
        ...(typeof idx === 'number' ? { iterationIndex: idx } : {}),
        ...(cursor ? { cursor } : {}),
      };
      state.commands.set(commandId, record);
      const slot = cursor ? s.loop?.cursor?.slots[cursor.slot] : undefined;
      if (s.loop && cursor && slot) {
        if (cursor.phase === 'claim') slot.claiming = true;
        else {
          slot.next = Math.max(slot.next, (typeof idx === 'number' ? idx : slot.next) + 1);
          slot.inFlight++;
        }
        s.loop.inFlight++;
      } else if (s.loop && typeof idx === 'number') {
        s.loop.nextIndex = Math.max(s.loop.nextIndex, idx + 1);
        s.loop.inFlight++;
      } else {
        setStatus(state, s, 'issued');
      }
      return;
    }
    case 'command.claimed':
    case 'command.started': {
      const record = state.commands.get(commandIdOf(event) ?? '');
      if (!record || record.status === 'completed' || record.status === 'failed') return;
      record.status = event.event_type === 'command.claimed' ? 'claimed' : 'started';
      if (event.worker_id) record.workerId = event.worker_id;
      const s = stepState(state, record.step);
      if (record.iterationIndex === undefined && isRunning(s.status)) setStatus(state, s, record.status);
      return;
    }
    case 'call.done':
    case 'call.error': {
      const record = state.commands.get(commandIdOf(event) ?? '');
      if (!record) return;
      const payload = payloadOf(event);
      const result = payload['result'];
      if (isRecord(result)) {
        const inner = result['context'];
        record.result = isRecord(inner) ? inner : result;
      }
      return;
    }
    case 'command.completed': {
      const record = state.commands.get(commandIdOf(event) ?? '');
      if (!record || record.status === 'completed' || record.status === 'failed') return;
      record.status = 'completed';
      const s = stepState(state, record.step);
      const data = record.result?.['data'] ?? null;
      const updates = record.result?.['context_updates'];
      if (s.loop?.cursor && record.cursor) {
        foldCursorEnd(state, s, s.loop, record, event, undefined);
        return;
      }
      if (s.loop && record.iterationIndex !== undefined) {
        const loop = s.loop;
        loop.results[record.iterationIndex] = data;
        loop.completed++;
        loop.inFlight--;
        if (isRecord(updates)) s.contextUpdates = { ...s.contextUpdates, ...updates };
        if (loop.failed > 0 && loop.inFlight === 0) fail(state, s, loop.firstError!, event);
        else if (loop.completed === loop.items.length) complete(state, s, loop.results.slice(), event);
        return;
      }
      if (isRecord(updates)) s.contextUpdates = updates;
      else delete s.contextUpdates;
      complete(state, s, data, event, record.result?.['reference'] !== undefined);
      return;
    }
    case 'command.failed': {
      const record = state.commands.get(commandIdOf(event) ?? '');
      if (!record || record.status === 'completed' || record.status === 'failed') return;
      record.status = 'failed';
      const s = stepState(state, record.step);
      const error = errorFrom(event);
      if (s.loop?.cursor && record.cursor) {
        foldCursorEnd(state, s, s.loop, record, event, error);
        return;
      }
      if (s.loop && record.iterationIndex !== undefined) {
        const loop = s.loop;
        loop.failed++;
        loop.inFlight--;
        loop.firstError ??= error;
        if (loop.inFlight === 0) fail(state, s, loop.firstError, event);
        return;
      }
      if (record.result && 'data' in record.result) s.data = record.result['data'];
      fail(state, s, error, event);
      return;
    }
    case 'step.exit': {
      const s = stepState(state, event.node_name);
      const payload = payloadOf(event);
      // a cursor loop's drain marker: the fold completed the loop already (see foldCursorEnd)
      if (payload['__cursor_drained'] === true && !isRunning(s.status)) return;
      if (event.status === 'FAILED') {
        fail(state, s, errorFrom(event), event);
        return;
      }
      const data = 'data' in payload ? payload['data'] : s.loop ? [] : null;
      complete(state, s, data, event);
      return;
    }
    case 'step.waiting':
      state.waiting.add(event.node_name);
      return;
    case 'step.skipped': {
      state.waiting.delete(event.node_name);
      const s = stepState(state, event.node_name);
      if (isRunning(s.status)) return;
      if (s.status !== 'completed' && s.status !== 'failed') setStatus(state, s, 'skipped');
      return;
    }
    case 'ctx.updated': {
      const values = (event.context ?? {})['values'];
      if (isRecord(values)) {
        Object.assign(state.vars, values);
        state.varsVersion++;
      }
      return;
    }
    case 'playbook.completed':
      state.status = 'COMPLETED';
      state.completedAt = timeOf(event);
      return;
    case 'playbook.failed':
      state.status = 'FAILED';
      state.completedAt = timeOf(event);
      if (event.error) state.error = event.error;
      return;
    case 'playbook_cancelled':
      state.status = 'CANCELLED';
      state.completedAt = timeOf(event);
      if (event.error) state.error = event.error;
      return;
    case 'command.heartbeat':
      return;
  }
}
