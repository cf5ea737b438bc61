import type { Arc, Playbook, Step } from '../dsl/index.js';
import { isoTime, NoetlError, type Clock, type IdGenerator } from '../shared/index.js';
import {
  isTemplate,
  nowValue,
  scanTemplate,
  type TemplateRenderer,
  type TemplateScope,
} from '../template/index.js';
import { keychainReadBy, namesReadByKeychain, snapshotScope, type Command } from './command.js';
import {
  claimStepOf,
  cursorEnterContext,
  DEFAULT_CURSOR_MAX_ITERATIONS,
  slotFinished,
  type CursorRun,
} from './cursor.js';
import type { EventType, ExecutionEvent } from './events.js';
import { edgeKey, graphOf, onOneCycle, reachableFrom, type PlaybookGraph } from './graph.js';
import { DEFAULT_MAX_IN_FLIGHT, toIterable } from './loop-items.js';
import { bareReference, executionScope, lookupReference } from './scope.js';
import {
  applyEvent,
  isRunning,
  newExecutionState,
  stepState,
  type ExecutionState,
  type StepState,
} from './state.js';
import { workloadErrorReadBy } from './workload.js';

export interface EngineDeps {
  readonly ids: IdGenerator;
  readonly clock: Clock;
  readonly templates: TemplateRenderer;
  /**
   * Steps an execution may enter (`step.enter` events, re-entries included; loop iterations are
   * not steps); past it the execution fails with STEP_BUDGET_EXCEEDED, so a cycle without an
   * exit ends. Default DEFAULT_STEP_BUDGET.
   */
  readonly stepBudget?: number;
}

/** Default of `EngineDeps.stepBudget`: far above any real playbook (the 10,000-step benchmark). */
export const DEFAULT_STEP_BUDGET = 100_000;

/** What a decision adds: events to append (already folded into the state) and commands to run. */
export interface Decision {
  readonly events: ExecutionEvent[];
  readonly commands: Command[];
}

export interface StartOptions {
  readonly executionId: string;
  /** The effective workload (see `effectiveWorkload`). */
  readonly workload: Readonly<Record<string, unknown>>;
  /** Workload keys whose template failed to render (see `effectiveWorkload`), recorded. */
  readonly workloadErrors?: Readonly<Record<string, { readonly code: string; readonly message: string }>>;
  /** Start time (ms) recorded in `playbook_started`, which `now()` returns; default the clock. */
  readonly startedAt?: number;
  readonly catalogId?: string;
  readonly path?: string;
  readonly version?: string;
  readonly parentExecutionId?: string;
  readonly executionPool?: string;
  /** Entry step; default `start`, else `executor.spec.entry_step`. */
  readonly entry?: string;
}

interface DispatchOptions {
  readonly from?: string;
  /** Values of the arc's `set` (scope prefixes stripped). */
  readonly set?: Readonly<Record<string, unknown>>;
  readonly handlesFailureOf?: string;
}

/** Strips `ctx.`/`step.`/`iter.` prefixes (contract 1.10): everything lands in one flat context. */
export function stripScope(key: string): string {
  const dot = key.indexOf('.');
  if (dot < 0) return key;
  const scope = key.slice(0, dot);
  return scope === 'ctx' || scope === 'step' || scope === 'iter' || scope === 'vars'
    ? key.slice(dot + 1)
    : key;
}

/**
 * Whether an arc's `when` reads the step's outcome (`output` or `event`): only such arcs may fire
 * from a failed step, so `when: "{{ output.status == 'error' }}"` is an error branch while an arc
 * without `when` (or testing unrelated values) never fires on failure.
 */
function testsOutcome(arc: Arc): boolean {
  if (typeof arc.when !== 'string') return false;
  const source = isTemplate(arc.when) ? arc.when : `{{ ${arc.when} }}`;
  const names = scanTemplate(source).names;
  return names.includes('output') || names.includes('event');
}

/** Entry step of a playbook. */
export function entryStep(playbook: Playbook, requested?: string): string {
  if (requested) return requested;
  if (playbook.steps.has('start')) return 'start';
  return playbook.executor?.entryStep ?? 'start';
}

/**
 * One decision pass: emits events (folding each at once, so later logic sees it) and collects
 * commands. Cost depends on the step being decided, not on the length of the log.
 */
class Pass {
  readonly events: ExecutionEvent[] = [];
  readonly commands: Command[] = [];
  private readonly queued = new Set<string>();
  /** Steps on the skip chain being followed (a chain that comes back round ends there). */
  private readonly skipping = new Set<string>();
  private readonly graph: PlaybookGraph;

  constructor(
    private readonly state: ExecutionState,
    private readonly deps: EngineDeps,
    private readonly parentEventId?: string,
  ) {
    this.graph = graphOf(state.playbook, state.entry);
  }

  emit(
    eventType: EventType,
    nodeName: string,
    fields: Partial<Omit<ExecutionEvent, 'event_type' | 'node_name'>> = {},
  ): ExecutionEvent {
    const state = this.state;
    const event: ExecutionEvent = {
      execution_id: state.executionId,
      event_id: fields.event_id ?? this.deps.ids.next(),
      event_type: eventType,
      node_name: nodeName,
      status: fields.status ?? 'RUNNING',
      created_at: isoTime(this.deps.clock.now()),
      ...(state.catalogId !== undefined ? { catalog_id: state.catalogId } : {}),
      ...(state.parentExecutionId !== undefined ? { parent_execution_id: state.parentExecutionId } : {}),
      ...(this.parentEventId !== undefined ? { parent_event_id: this.parentEventId } : {}),
      ...fields,
    };
    applyEvent(state, event);
    this.events.push(event);
    return event;
  }

  private def(name: string): Step | undefined {
    return this.state.playbook.steps.get(name);
  }

  private renderSet(
    set: Readonly<Record<string, unknown>> | undefined,
    overlay?: Readonly<Record<string, unknown>>,
  ): Record<string, unknown> | undefined {
    if (!set) return undefined;
    const scope = executionScope(this.state, overlay);
    const values: Record<string, unknown> = {};
    for (const [key, template] of Object.entries(set)) {
      values[stripScope(key)] = this.deps.templates.renderValue(template, scope);
    }
    return values;
  }

  // ---- completion and routing ------------------------------------------------------------------

  onCompleted(s: StepState): void {
    const def = this.def(s.name);
    if (!def) return;
    const values: Record<string, unknown> = {};
    if (s.contextUpdates) for (const [k, v] of Object.entries(s.contextUpdates)) values[stripScope(k)] = v;
    const eventVar = s.loop ? { name: 'loop.done' } : undefined;
    if (def.set) {
      const overlay = { output: s.view, ...(eventVar ? { event: eventVar } : {}) };
      Object.assign(values, this.renderSet(def.set, overlay));
    }
    if (Object.keys(values).length > 0) {
      this.emit('ctx.updated', s.name, {
        status: 'COMPLETED',
        context: { step: s.name, gen: s.completionEventId ?? '', values },
      });
    }
    this.route(s, def, s.view, false);
  }

  onFailed(s: StepState): void {
    const def = this.def(s.name);
    if (!def) return;
    const output = {
      status: 'error',
      error: s.error ?? { message: 'step failed', code: 'STEP_FAILED' },
      ...(s.data !== undefined ? { data: s.data } : {}),
    };
    this.route(s, def, output, true);
  }

  private route(s: StepState, def: Step, output: unknown, failed: boolean): void {
    const next = def.next;
    if (!next || next.arcs.length === 0) return;
    const event = failed ? { name: 'step.failed' } : s.loop ? { name: 'loop.done' } : undefined;
    // built when an arc has a `when` (most arcs have none); indexed loops: this runs per step, in
    // the interpreter in a short process, where for...of allocates per element
    let scope: TemplateScope | undefined;
    const matched: Arc[] = [];
    const unmatched: Arc[] = [];
    const { arcs } = next;
    for (let i = 0; i < arcs.length; i++) {
      const arc = arcs[i]!;
      if ((failed && !testsOutcome(arc)) || (next.mode === 'exclusive' && matched.length > 0)) {
        unmatched.push(arc);
        continue;
      }
      let ok = true;
      if (arc.when !== undefined) {
        scope ??= executionScope(this.state, { output, ...(event ? { event } : {}) });
        ok = this.deps.templates.condition(arc.when, scope);
      }
      (ok ? matched : unmatched).push(arc);
    }
    if (failed && matched.length === 0) return; // the failure stays unhandled
    if (unmatched.length > 0 && !this.graph.branchPoints.has(s.name)) {
      const taken = new Set(matched.map((a) => a.step));
      for (const arc of unmatched) if (!taken.has(arc.step)) this.skipIfIdle(arc.step, 'arc not taken');
    }
    for (let i = 0; i < matched.length; i++) {
      const arc = matched[i]!;
      const set = this.renderSet(arc.set ?? arc.args);
      this.dispatch(arc.step, {
        from: s.name,
        ...(set ? { set } : {}),
        ...(failed ? { handlesFailureOf: s.name } : {}),
      });
    }
  }

  private skipIfIdle(name: string, reason: string): void {
    const st = this.state.steps.get(name);
    if (this.queued.has(name) || this.state.waiting.has(name)) return;
    if (st && st.status !== 'pending') return;
    this.emit('step.skipped', name, { status: 'SKIPPED', context: { reason } });
  }

  /** Upstreams of a fan-in target that may still arrive (contract 1.7 fan-in barrier). */
  private liveUpstreams(name: string, from: string | undefined): string[] {
    const ups = this.graph.upstreams.get(name) ?? [];
    if (ups.length < 2) return [];
    const active: string[] = [...this.queued];
    for (const [stepName, st] of this.state.steps) if (isRunning(st.status)) active.push(stepName);
    if (from !== undefined) active.push(from);
    let reach: Set<string> | undefined;
    const live: string[] = [];
    for (const u of ups) {
      if (u === from) continue;
      const st = this.state.steps.get(u);
      if (st && (st.status === 'completed' || st.status === 'failed' || st.status === 'skipped')) {
        if (!this.queued.has(u)) continue;
      }
      if (st && isRunning(st.status)) {
        live.push(u);
        continue;
      }
      reach ??= reachableFrom(
        this.graph,
        active.filter((a) => a !== name),
      );
      if (reach.has(u)) live.push(u);
    }
    return live;
  }

  dispatch(name: string, opts: DispatchOptions): void {
    const state = this.state;
    if (state.status !== 'RUNNING') return;
    if (state.unhandledFailures.size > 0 && opts.handlesFailureOf === undefined) return; // fail fast
    const def = this.def(name);
    if (!def || this.queued.has(name)) return;
    const st = state.steps.get(name);
    if (st && isRunning(st.status)) return;
    // Re-entry: the target lies on a cycle through the source (contract 1.7 workflow loops).
    const reentry = opts.from !== undefined && onOneCycle(this.graph, name, opts.from);
    // A waiting barrier target passed this check when it was routed to (recheckWaiting has no `from`).
    const held = state.waiting.has(name);
    if (st && (st.status === 'completed' || st.status === 'failed') && !reentry && !held) return;
    const backEdge = opts.from !== undefined && this.graph.backEdges.has(edgeKey(opts.from, name));
    if (!backEdge) {
      const live = this.liveUpstreams(name, opts.from);
      if (live.length > 0) {
        // Recorded, so a replay knows the target is held (and not skipped) while the others run.
        if (!state.waiting.has(name)) {
          this.emit('step.waiting', name, {
            status: 'PENDING',
            context: { ...(opts.from !== undefined ? { from: opts.from } : {}), waiting_for: live },
          });
        }
        return;
      }
    }
    if (this.failsOnWorkload(def, opts)) return;
    const overlay = opts.set ? { ...opts.set, ctx: opts.set } : undefined;
    if (def.when !== undefined && !this.deps.templates.condition(def.when, executionScope(state, overlay))) {
      if (this.skipping.has(name)) return;
      this.emit('step.skipped', name, { status: 'SKIPPED', context: { reason: 'when' } });
      this.skipping.add(name);
      this.followSkipChain(def, opts);
      this.skipping.delete(name);
      return;
    }
    const budget = this.deps.stepBudget ?? DEFAULT_STEP_BUDGET;
    if (state.stepsEntered >= budget) {
      this.failExecution(
        'STEP_BUDGET_EXCEEDED',
        `step '${name}' would exceed the execution's step budget of ${budget} steps entered ` +
          '(a cycle without an exit?)',
      );
      return;
    }
    this.queued.add(name);
    const enterContext: Record<string, unknown> = {};
    if (opts.handlesFailureOf !== undefined) enterContext['handles_failure_of'] = opts.handlesFailureOf;
    if (opts.set) enterContext['arc_set'] = opts.set;
    if (def.loop) {
      this.startLoop(def, enterContext, overlay);
      return;
    }
    this.emit('step.enter', name, { context: enterContext });
    if (!def.tool) {
      this.emit('step.exit', name, {
        status: 'COMPLETED',
        result: { status: 'COMPLETED', context: { data: null } },
      });
      this.onCompleted(stepState(state, name));
      return;
    }
    this.issue(def, overlay);
  }

  /**
   * A step that reads a workload value whose template failed at start fails with that error
   * (lazy workload): it enters and exits FAILED; its error arcs may handle it.
   */
  private failsOnWorkload(def: Step, opts: DispatchOptions): boolean {
    const bad = workloadErrorReadBy(this.state, def, keychainReadBy(this.state.playbook, def));
    if (!bad) return false;
    this.queued.add(def.name);
    const message = `workload.${bad.key} could not be rendered: ${bad.message}`;
    const enterContext =
      opts.handlesFailureOf !== undefined ? { handles_failure_of: opts.handlesFailureOf } : {};
    this.emit('step.enter', def.name, { context: enterContext });
    this.emit('step.exit', def.name, {
      status: 'FAILED',
      error: message,
      result: { status: 'FAILED', context: { error: { message, code: bad.code } } },
    });
    this.onFailed(stepState(this.state, def.name));
    return true;
  }

  /** A step skipped by its `when` passes control along its first matching arc. */
  private followSkipChain(def: Step, opts: DispatchOptions): void {
    const next = def.next;
    if (!next) return;
    const scope = executionScope(this.state);
    for (const arc of next.arcs) {
      if (arc.when !== undefined && !this.deps.templates.condition(arc.when, scope)) continue;
      const set = this.renderSet(arc.set ?? arc.args);
      this.dispatch(arc.step, {
        from: def.name,
        ...(set ? { set } : opts.set ? { set: opts.set } : {}),
        ...(opts.handlesFailureOf !== undefined ? { handlesFailureOf: opts.handlesFailureOf } : {}),
      });
      return;
    }
  }

  private startLoop(
    def: Step,
    enterContext: Record<string, unknown>,
    overlay: Readonly<Record<string, unknown>> | undefined,
  ): void {
    const loop = def.loop!;
    if (loop.mode === 'cursor') {
      this.startCursor(def, enterContext, overlay);
      return;
    }
    const scope = executionScope(this.state, overlay);
    let items: unknown[];
    try {
      items = toIterable(this.deps.templates.renderValue(loop.in, scope), def.name);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const code = err instanceof NoetlError ? err.code : 'LOOP_NOT_ITERABLE';
      this.emit('step.enter', def.name, { context: enterContext });
      this.emit('step.exit', def.name, {
        status: 'FAILED',
        error: message,
        result: { status: 'FAILED', context: { error: { message, code } } },
      });
      return;
    }
    const reference = bareReference(loop.in);
    let maxInFlight = Math.min(items.length, DEFAULT_MAX_IN_FLIGHT);
    if (loop.mode === 'sequential') maxInFlight = 1;
    else if (loop.maxInFlight !== undefined) {
      const rendered = this.deps.templates.renderValue(loop.maxInFlight, scope);
      const n = typeof rendered === 'number' ? rendered : Number(rendered);
      if (Number.isFinite(n) && n >= 1) maxInFlight = Math.floor(n);
    }
    this.emit('step.enter', def.name, {
      context: {
        ...enterContext,
        iterations_expected: items.length,
        iterator_var: loop.iterator,
        max_in_flight: Math.max(1, maxInFlight),
        mode: loop.mode,
        // A list the state holds already (`{{ workload.items }}`, `{{ fetch.rows }}`) is named,
        // not copied: a replay looks it up where this pass did (state.ts). Copied into the
        // event, a 100,000-item workload made execute write it twice more (issue 10 item 11).
        ...(reference !== undefined && lookupReference(scope, reference) === items
          ? { items_from: reference }
          : { items }),
      },
    });
    const s = stepState(this.state, def.name);
    if (items.length === 0) {
      this.emit('step.exit', def.name, {
        status: 'COMPLETED',
        result: { status: 'COMPLETED', context: { data: [] } },
      });
      this.onCompleted(s);
      return;
    }
    this.continueLoop(s);
  }

  /**
   * A cursor loop (docs/dsl.md "Cursor loops"): `max_in_flight` slots, each claiming a frame of
   * rows with a claim command, running the step once per row, and claiming again until a claim
   * returns no row. The knobs are rendered here and recorded in `step.enter`.
   */
  private startCursor(
    def: Step,
    enterContext: Record<string, unknown>,
    overlay: Readonly<Record<string, unknown>> | undefined,
  ): void {
    const loop = def.loop!;
    const scope = executionScope(this.state, overlay);
    const whole = (value: unknown, fallback: number): number => {
      if (value === undefined || value === null) return fallback;
      const rendered = this.deps.templates.renderValue(value, scope);
      const n = typeof rendered === 'number' ? rendered : Number(rendered);
      return Number.isFinite(n) && n >= 1 ? Math.floor(n) : fallback;
    };
    const frame = loop.frame ?? {};
    const options = loop.cursor?.['options'];
    const maxIterations =
      options !== null && typeof options === 'object'
        ? (options as Record<string, unknown>)['max_iterations']
        : undefined;
    this.emit('step.enter', def.name, {
      context: {
        ...enterContext,
        iterator_var: loop.iterator,
        mode: loop.mode,
        ...cursorEnterContext({
          slots: whole(loop.maxInFlight, 1),
          maxRows: whole(frame['max_rows'], 1),
          rowConcurrency: whole(frame['row_concurrency'], 1),
          perFrame: this.deps.templates.renderValue(frame['process'] ?? 'row', scope) === 'frame',
          maxIterations: whole(maxIterations, DEFAULT_CURSOR_MAX_ITERATIONS),
        }),
      },
    });
    this.continueLoop(stepState(this.state, def.name));
  }

  /**
   * Marks a cursor loop's end in the log (`step.exit` with `__cursor_drained`, as NoETL's
   * server writes it), so a reader of the events sees where the loop ended without folding them.
   */
  drained(s: StepState, cursor: CursorRun): void {
    this.emit('step.exit', s.name, {
      status: 'COMPLETED',
      result: {
        status: 'COMPLETED',
        context: {
          __cursor_drained: true,
          rows: cursor.slots.reduce((n, slot) => n + slot.claimed, 0),
          frames: cursor.slots.reduce((n, slot) => n + slot.frames, 0),
        },
      },
    });
  }

  /**
   * A loop iteration's rule `set` (its `context_updates`) reaches the execution ctx as soon as the
   * iteration completes, so the next iteration of a sequential loop sees it, as NoETL's engine
   * syncs each call's ctx; the loop's completion applies them all again, last iteration winning.
   */
  iterationSet(s: StepState, updates: unknown, gen: string): void {
    if (updates === null || typeof updates !== 'object' || Array.isArray(updates)) return;
    const values: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(updates)) values[stripScope(k)] = v;
    if (Object.keys(values).length === 0) return;
    this.emit('ctx.updated', s.name, { status: 'COMPLETED', context: { step: s.name, gen, values } });
  }

  /** Issues iterations up to the loop's in-flight limit (none once an iteration failed). */
  continueLoop(s: StepState): void {
    const loop = s.loop;
    const def = this.def(s.name);
    if (!loop || !def || loop.failed > 0) return;
    const cursor = loop.cursor;
    if (cursor) {
      // Each slot runs its frame's rows (up to `row_concurrency` at a time), then claims again.
      cursor.slots.forEach((slot, i) => {
        if (slot.claiming) return;
        while (slot.next < slot.end && slot.inFlight < cursor.rowConcurrency)
          this.issue(def, undefined, slot.next, i);
        if (slot.next === slot.end && slot.inFlight === 0 && !slotFinished(cursor, slot))
          this.issue(def, undefined, undefined, i);
      });
      return;
    }
    while (loop.nextIndex < loop.items.length && loop.inFlight < loop.maxInFlight) {
      this.issue(def, undefined, loop.nextIndex);
    }
  }

  /**
   * Issues a command of the step: an iteration when `index` is given, and in a cursor loop the
   * slot's body run (`slot` and `index`) or the slot's claim (`slot` alone: the claim statement
   * as a postgres command, `__frame_max_rows` and `__worker_slot_id` in its render context).
   */
  private issue(
    def: Step,
    arcOverlay: Readonly<Record<string, unknown>> | undefined,
    index?: number,
    slot?: number,
  ): void {
    const state = this.state;
    const eventId = this.deps.ids.next();
    let commandId = `${state.executionId}:${def.name}:${eventId}`;
    let args: Record<string, unknown> = {};
    let overlay = arcOverlay;
    const loop = stepState(state, def.name).loop;
    const cursor = slot !== undefined ? loop?.cursor : undefined;
    const claim = cursor !== undefined && index === undefined;
    const run = claim ? claimStepOf(def) : def;
    if (index !== undefined && loop) {
      commandId += `:i${index}`;
      const item = loop.items[index];
      const vars = cursor
        ? { [loop.iterator]: item, _index: index }
        : { [loop.iterator]: item, _index: index, _total: loop.items.length };
      const arcSet = loop.arcSet;
      overlay = { ...(arcSet ? { ...arcSet, ctx: arcSet } : {}), ...vars, iter: vars };
      args = { ...vars };
    } else if (claim && loop) {
      commandId += ':claim';
      const arcSet = loop.arcSet;
      overlay = {
        ...(arcSet ? { ...arcSet, ctx: arcSet } : {}),
        __frame_max_rows: cursor.maxRows,
        __worker_slot_id: `${loop.enterEventId}:slot-${slot}`,
      };
    }
    if (def.args && !claim) {
      const rendered = this.deps.templates.renderValue(def.args, executionScope(state, overlay));
      if (rendered !== null && typeof rendered === 'object') args = { ...rendered, ...args };
    }
    const tool = run.tool!;
    const toolKind = tool.shape === 'single' ? tool.tasks[0]!.kind : 'task_sequence';
    const keychain = keychainReadBy(state.playbook, run);
    const renderContext = snapshotScope(
      run,
      executionScope(state, overlay),
      claim
        ? [...namesReadByKeychain(keychain), '__frame_max_rows', '__worker_slot_id']
        : namesReadByKeychain(keychain),
    );
    this.emit('command.issued', def.name, {
      event_id: eventId,
      node_type: toolKind,
      status: 'PENDING',
      context: {
        tool_config: tool,
        args,
        render_context: renderContext,
        ...(keychain.length > 0 ? { keychain } : {}),
      },
      meta: {
        command_id: commandId,
        step: def.name,
        tool_kind: toolKind,
        attempt: 1,
        max_attempts: 1,
        execution_id: state.executionId,
        actionable: true,
        ...(state.catalogId !== undefined ? { catalog_id: state.catalogId } : {}),
        ...(index !== undefined && loop
          ? {
              iteration_index: index,
              ...(cursor ? {} : { iteration_total: loop.items.length }),
              iterator_step: def.name,
              item_var: loop.iterator,
            }
          : {}),
        ...(cursor && slot !== undefined
          ? {
              // the frame a claim fills, or the one a row came in (frames counts filled ones)
              cursor: {
                phase: claim ? 'claim' : 'body',
                slot,
                frame: (cursor.slots[slot]?.frames ?? 1) - (claim ? 0 : 1),
              },
            }
          : {}),
      },
    });
    this.commands.push({
      command_id: commandId,
      event_id: eventId,
      execution_id: state.executionId,
      step: def.name,
      tool_kind: toolKind,
      tool,
      args,
      render_context: renderContext,
      ...(keychain.length > 0 ? { keychain } : {}),
      ...(state.catalogId !== undefined ? { catalog_id: state.catalogId } : {}),
      ...(state.parentExecutionId !== undefined ? { parent_execution_id: state.parentExecutionId } : {}),
      ...(state.executionPool !== undefined ? { execution_pool: state.executionPool } : {}),
      ...(index !== undefined && loop
        ? { iteration_index: index, ...(cursor ? {} : { iteration_total: loop.items.length }) }
        : {}),
    });
  }

  /**
   * Barrier targets whose last live upstream went away (skipped or failed) may go now. A target
   * leaves `waiting` only by an event (`step.enter`, `step.skipped`), so a replay agrees.
   */
  recheckWaiting(): void {
    for (const name of [...this.state.waiting]) {
      if (this.liveUpstreams(name, undefined).length === 0) this.dispatch(name, {});
    }
  }

  /**
   * Runs part of a decision. A template that fails to render there (a `when`, a `set`, `args`)
   * fails the execution with its code: the same log would fail every later decision the same way.
   */
  guarded(run: () => void): void {
    try {
      run();
    } catch (err) {
      if (!(err instanceof NoetlError) || !err.code.startsWith('TEMPLATE_')) throw err;
      if (this.state.status !== 'RUNNING') throw err;
      this.failExecution(err.code, err.message);
    }
  }

  /** Fails the execution at once (running commands' results are ignored from here on). */
  private failExecution(code: string, message: string): void {
    this.emit('playbook.failed', 'playbook', {
      node_type: 'execution',
      status: 'FAILED',
      error: message,
      meta: { status: 'FAILED', error: message, code },
      result: { status: 'FAILED', context: { error: message, code } },
    });
  }

  /** Ends the execution once nothing runs (contract 3.5 step 8). */
  finish(): void {
    const state = this.state;
    if (state.status !== 'RUNNING' || state.running > 0) return;
    if (state.unhandledFailures.size > 0) {
      const failed = [...state.unhandledFailures];
      const first = state.steps.get(failed[0]!);
      const message = `step '${failed[0]}' failed: ${first?.error?.message ?? 'unknown error'}`;
      this.emit('playbook.failed', 'playbook', {
        node_type: 'execution',
        status: 'FAILED',
        error: message,
        meta: { status: 'FAILED', error: message, failed_steps: failed },
        result: { status: 'FAILED', context: { error: message, failed_steps: failed } },
      });
      return;
    }
    this.emit('playbook.completed', 'playbook', {
      node_type: 'execution',
      status: 'COMPLETED',
      meta: { status: 'COMPLETED' },
      result: { status: 'COMPLETED', context: { final_step: state.lastCompleted ?? null } },
    });
  }
}

function startEvents(
  playbook: Playbook,
  options: StartOptions,
  deps: EngineDeps,
  extra: Readonly<Record<string, unknown>> = {},
): { state: ExecutionState; pass: Pass } {
  const entry = entryStep(playbook, options.entry);
  const state = newExecutionState(playbook, entry, options.executionId);
  if (options.catalogId !== undefined) state.catalogId = options.catalogId;
  if (options.parentExecutionId !== undefined) state.parentExecutionId = options.parentExecutionId;
  const pass = new Pass(state, deps);
  pass.emit('playbook_started', 'playbook', {
    node_type: 'execution',
    ...(options.startedAt !== undefined ? { created_at: isoTime(options.startedAt) } : {}),
    context: {
      execution_id: options.executionId,
      path: options.path ?? playbook.metadata.path,
      workload: options.workload,
      ...(options.workloadErrors !== undefined && Object.keys(options.workloadErrors).length > 0
        ? { workload_errors: options.workloadErrors }
        : {}),
      ...(options.catalogId !== undefined ? { catalog_id: options.catalogId } : {}),
      ...(options.version !== undefined ? { version: options.version } : {}),
      // A chosen entry is recorded, so a replay (which has only the log) knows it.
      ...(options.entry !== undefined ? { entry_step: entry } : {}),
      ...extra,
    },
    meta: {
      ...(options.executionPool !== undefined ? { execution_pool: options.executionPool } : {}),
      ...(options.parentExecutionId !== undefined ? { parent_execution_id: options.parentExecutionId } : {}),
    },
  });
  return { state, pass };
}

/** Starts an execution: `playbook_started`, then the entry step (contract 3.5 step 3). */
export function startExecution(
  playbook: Playbook,
  options: StartOptions,
  deps: EngineDeps,
): { state: ExecutionState; decision: Decision } {
  const { state, pass } = startEvents(playbook, options, deps);
  if (!playbook.steps.has(state.entry)) {
    const message = `entry step '${state.entry}' is not defined`;
    pass.emit('playbook.failed', 'playbook', {
      node_type: 'execution',
      status: 'FAILED',
      error: message,
      meta: { status: 'FAILED', error: message },
    });
  } else {
    pass.guarded(() => {
      pass.dispatch(state.entry, {});
      pass.finish();
    });
  }
  return { state, decision: { events: pass.events, commands: pass.commands } };
}

/**
 * Starts a new execution that resumes a failed (or cancelled) one (beyond NoETL): steps that
 * completed there are recorded as completed with their results (`step.enter` + `step.exit`,
 * `context.reused_from`), its `set` variables are carried over, and the failed steps run again.
 */
export function resumeExecution(
  playbook: Playbook,
  previous: ExecutionState,
  options: StartOptions,
  deps: EngineDeps,
): { state: ExecutionState; decision: Decision } {
  const started = startEvents(playbook, options, deps, { resumed_from: previous.executionId });
  const { state, pass } = started;
  const reused = new Set<string>();
  for (const name of previous.executed) {
    const s = previous.steps.get(name);
    if (!s || s.status !== 'completed' || reused.has(name)) continue;
    reused.add(name);
    pass.emit('step.enter', name, { context: { reused_from: previous.executionId } });
    pass.emit('step.exit', name, {
      status: 'COMPLETED',
      result: {
        status: 'COMPLETED',
        context: { data: (s.data ?? null) as unknown, reused_from: previous.executionId },
      },
    });
  }
  if (Object.keys(previous.vars).length > 0) {
    pass.emit('ctx.updated', 'playbook', {
      status: 'COMPLETED',
      context: { step: 'playbook', gen: previous.executionId, values: { ...previous.vars } },
    });
  }
  const again = [...previous.steps.values()]
    .filter(
      (s) =>
        s.status === 'failed' ||
        (s.status !== 'completed' && s.status !== 'skipped' && s.status !== 'pending'),
    )
    .map((s) => s.name);
  if (again.length === 0 && reused.size === 0) again.push(state.entry);
  pass.guarded(() => {
    for (const name of again) pass.dispatch(name, {});
    pass.finish();
  });
  return { state, decision: { events: pass.events, commands: pass.commands } };
}

/**
 * Decides what follows a folded trigger event (`command.completed`, `command.failed`,
 * `step.exit`): context updates, routing, loop iterations, completion. Call it after
 * `applyEvent(state, trigger)`. Repeated triggers decide nothing new.
 */
export function decide(state: ExecutionState, trigger: ExecutionEvent, deps: EngineDeps): Decision {
  const pass = new Pass(state, deps, trigger.event_id);
  if (state.status !== 'RUNNING') return { events: [], commands: [] };
  pass.guarded(() => decidePass(pass, state, trigger));
  return { events: pass.events, commands: pass.commands };
}

function decidePass(pass: Pass, state: ExecutionState, trigger: ExecutionEvent): void {
  let stepName = trigger.node_name;
  let iterationUpdates: unknown;
  if (trigger.event_type === 'command.completed' || trigger.event_type === 'command.failed') {
    const meta = trigger.meta?.['command_id'];
    const payload = (trigger.result?.context ?? trigger.context) as Record<string, unknown> | undefined;
    const cid = typeof meta === 'string' ? meta : payload?.['command_id'];
    const record = typeof cid === 'string' ? state.commands.get(cid) : undefined;
    if (record) stepName = record.step;
    if (record?.iterationIndex !== undefined && trigger.event_type === 'command.completed') {
      iterationUpdates = record.result?.['context_updates'];
    }
  }
  const s = state.steps.get(stepName);
  if (s) {
    if (s.completionEventId === trigger.event_id && s.status === 'completed') {
      if (s.loop?.cursor) pass.drained(s, s.loop.cursor);
      pass.onCompleted(s);
    } else if (s.completionEventId === trigger.event_id && s.status === 'failed') pass.onFailed(s);
    else if (s.loop && isRunning(s.status)) {
      pass.iterationSet(s, iterationUpdates, trigger.event_id);
      pass.continueLoop(s);
    }
  }
  pass.recheckWaiting();
  pass.finish();
}

/** Cancels a running execution (`playbook_cancelled`). */
export function cancelExecution(state: ExecutionState, reason: string, deps: EngineDeps): Decision {
  const pass = new Pass(state, deps);
  if (state.status === 'RUNNING') {
    pass.emit('playbook_cancelled', 'playbook', {
      node_type: 'execution',
      status: 'CANCELLED',
      error: reason,
      meta: { status: 'CANCELLED', reason },
    });
  }
  return { events: pass.events, commands: pass.commands };
}

/** Rebuilds the state of an execution from its log (after a restart). */
export function replay(playbook: Playbook, events: Iterable<ExecutionEvent>, entry?: string): ExecutionState {
  let state: ExecutionState | undefined;
  for (const event of events) {
    state ??= newExecutionState(playbook, entryStep(playbook, entry), event.execution_id);
    applyEvent(state, event);
  }
  if (!state) throw new NoetlError('NOT_FOUND', 'no events to replay');
  return state;
}

/** Options of `effectiveWorkload`. */
export interface WorkloadOptions {
  /** The execution's start (ms): what `now()` returns; default the current time. */
  readonly now?: number;
  /**
   * Filled with the keys whose template failed to render (left out of the result), for
   * `StartOptions.workloadErrors`: only a step that reads one fails (lazy workload, issue 11
   * item 8). Without it, a failing template throws, as before.
   */
  readonly errors?: Record<string, { code: string; message: string }>;
}

/**
 * Effective workload (contract 1.3): playbook `workload` keys, then the request payload's keys
 * override (shallow). Workload values that are templates are rendered once against the merged
 * workload and `input` (the payload), e.g. `"{{ input.key | default('x') }}"`, and recorded in
 * `playbook_started`, so a replay and every worker see the same values.
 */
export function effectiveWorkload(
  playbook: Playbook,
  payload: Readonly<Record<string, unknown>>,
  templates: TemplateRenderer,
  options: WorkloadOptions = {},
): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...playbook.workload, ...payload };
  const scope = {
    ...merged,
    workload: merged,
    input: payload,
    ...(options.now !== undefined && !Object.prototype.hasOwnProperty.call(merged, 'now')
      ? { now: nowValue(options.now) }
      : {}),
  };
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(merged)) {
    if (Object.prototype.hasOwnProperty.call(payload, key)) {
      out[key] = value;
      continue;
    }
    try {
      out[key] = templates.renderValue(value, scope);
    } catch (err) {
      if (!options.errors) throw err;
      options.errors[key] = {
        code: err instanceof NoetlError ? err.code : 'TEMPLATE_RENDER',
        message: err instanceof Error ? err.message : String(err),
      };
    }
  }
  return out;
}
