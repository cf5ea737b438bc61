/**
 * Generated playbooks and a seeded, replayable "world" (workers, completion order, retries,
 * re-claims, duplicates, cancels, sub-playbooks) for the engine's replay property test.
 *
 * Everything random comes from one seeded PRNG whose state is part of the world, so a copy of
 * the world taken at any point continues exactly as the original does: the test runs the engine
 * on from the live state and on from a replay of the log, with copies of the same world, and
 * compares what each emits.
 */
import { parsePlaybook, type Playbook } from '../../src/dsl/index.js';
import {
  applyEvent,
  cancelExecution,
  commandEvent,
  decide,
  effectiveWorkload,
  startExecution,
  TRIGGER_EVENT_TYPES,
  type Command,
  type EngineDeps,
  type ExecutionEvent,
  type ExecutionState,
} from '../../src/engine/index.js';
import type { TemplateRenderer } from '../../src/template/index.js';

// ---- PRNG ------------------------------------------------------------------------------------

/** mulberry32: a 32-bit state, so a copy is one number. */
export class Rng {
  constructor(public state: number) {}

  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  copy(): Rng {
    return new Rng(this.state);
  }
}

// ---- playbooks -------------------------------------------------------------------------------

export interface GenOptions {
  /** Nesting depth of this playbook (children of `kind: playbook` steps are one deeper). */
  readonly depth: number;
}

export interface Generated {
  readonly source: string;
  readonly playbook: Playbook;
  /** Entry step to start at (undefined: the default `start`). */
  readonly entry?: string;
}

type Json = Record<string, unknown>;

const PLAIN_WHEN = [
  undefined,
  undefined,
  '{{ (output.v | default(0)) > 4 }}',
  '{{ (output.v | default(1)) % 2 == 0 }}',
  "{{ output.status == 'error' }}",
  '{{ false }}',
  '{{ seen | default(false) }}',
  // fails to render when the output has no `v` (a failed step, a child's result): fails the run
  '{{ output.v % 2 == 0 }}',
];
const LOOP_WHEN = [
  undefined,
  "{{ event.name == 'loop.done' }}",
  '{{ (output | default([])) | length > 1 }}',
  "{{ output.status == 'error' }}",
];

/**
 * A random playbook: a forward DAG (chains, inclusive/exclusive fan-out, fan-in with skipped
 * branches, error arcs), loops (sequential, parallel with `max_in_flight`), router steps, steps
 * with `when`, `kind: playbook` steps, and workflow back-edges bounded by a `set` counter.
 */
export function generatePlaybook(rng: Rng, opts: GenOptions): Generated {
  const n = 2 + rng.int(opts.depth === 0 ? 8 : 4);
  const names = Array.from({ length: n }, (_, i) => (i === 0 ? 'start' : `s${i}`));
  const workload: Json = {};
  const steps: Json[] = names.map((name) => ({ step: name }));
  const kinds: ('tool' | 'router' | 'loop' | 'child')[] = [];
  for (let i = 0; i < n; i++) {
    const step = steps[i]!;
    const r = rng.next();
    const kind =
      r < 0.12 && i > 0 ? 'router' : r < 0.32 ? 'loop' : r < 0.4 && opts.depth < 2 ? 'child' : 'tool';
    kinds.push(kind);
    if (kind !== 'router')
      step['tool'] = kind === 'child' ? { kind: 'playbook', path: 'child' } : { kind: 'noop' };
    if (kind === 'loop' && rng.chance(0.3)) {
      // A cursor loop: the world's claims take rows from a table of the step's own (World.script).
      step['loop'] = {
        iterator: 'it',
        cursor: { kind: 'postgres', auth: 'pg', claim: 'claim {{ __frame_max_rows }} rows' },
        spec: {
          mode: 'cursor',
          max_in_flight: 1 + rng.int(3),
          frame: {
            max_rows: 1 + rng.int(3),
            row_concurrency: 1 + rng.int(2),
            ...(rng.chance(0.3) ? { process: 'frame' } : {}),
          },
        },
      };
    } else if (kind === 'loop') {
      workload[`items${i}`] = Array.from({ length: rng.int(5) }, (_, k) => k);
      const parallel = rng.chance(0.6);
      step['loop'] = {
        in: `{{ items${i} }}`,
        iterator: 'it',
        spec: parallel
          ? { mode: 'parallel', ...(rng.chance(0.7) ? { max_in_flight: 1 + rng.int(3) } : {}) }
          : { mode: 'sequential' },
      };
    }
    if (i > 0 && rng.chance(0.12)) {
      workload[`flag${i}`] = rng.chance(0.5);
      step['when'] = `{{ flag${i} }}`;
    }
  }
  // Forward arcs: every step after the first has one or two upstreams (two make a fan-in).
  const arcs: Json[][] = names.map(() => []);
  for (let i = 1; i < n; i++) {
    const ups = new Set([rng.int(i)]);
    if (i > 1 && rng.chance(0.35)) ups.add(rng.int(i));
    for (const u of ups) arcs[u]!.push({ step: names[i] });
  }
  for (let i = 0; i < n; i++) {
    const pool =
      kinds[i] === 'loop' ? LOOP_WHEN : kinds[i] === 'router' ? [undefined, '{{ false }}'] : PLAIN_WHEN;
    for (const arc of arcs[i]!) {
      const when = rng.pick(pool);
      if (when !== undefined) arc['when'] = when;
    }
  }
  // Workflow back-edges, each bounded by a counter its source step advances.
  const backs = rng.chance(0.35) ? 1 + rng.int(2) : 0;
  for (let b = 0; b < backs; b++) {
    const from = 1 + rng.int(n - 1);
    const to = rng.int(from + 1);
    const counter = `round${from}`;
    if (workload[counter] !== undefined) continue;
    workload[counter] = 0;
    steps[from]!['set'] = { [`ctx.${counter}`]: `{{ ${counter} + 1 }}` };
    const back = { step: names[to], when: `{{ ${counter} < ${1 + rng.int(3)} }}` };
    if (rng.chance(0.5)) arcs[from]!.unshift(back);
    else arcs[from]!.push(back);
  }
  for (let i = 0; i < n; i++) {
    if (arcs[i]!.length === 0) continue;
    steps[i]!['next'] = { spec: { mode: rng.chance(0.5) ? 'inclusive' : 'exclusive' }, arcs: arcs[i] };
  }
  // Lazy workload (issue 11 item 8): a value that cannot render fails only a step that reads it.
  if (rng.chance(0.2)) {
    workload['stamp'] = '{{ now() }}';
    workload['broken'] = '{{ no_such_function() }}';
    const i = rng.int(n);
    if (kinds[i] === 'tool' && rng.chance(0.5))
      steps[i]!['tool'] = { kind: 'noop', v: '{{ workload.broken }}' };
  }
  const doc = {
    apiVersion: 'noetl.io/v2',
    kind: 'Playbook',
    metadata: { name: 'gen', path: `gen/d${opts.depth}` },
    workload,
    workflow: steps,
  };
  const source = JSON.stringify(doc);
  const { playbook, diagnostics } = parsePlaybook(source);
  if (!playbook) throw new Error(`generated an invalid playbook: ${JSON.stringify(diagnostics)}\n${source}`);
  const entry = rng.chance(0.05) ? names[rng.int(n)] : undefined;
  return { source, playbook, ...(entry !== undefined && entry !== 'start' ? { entry } : {}) };
}

// ---- the world -------------------------------------------------------------------------------

/** What a worker does next with one command. */
type Move =
  | { readonly type: 'command.claimed'; readonly worker: string }
  | { readonly type: 'command.started' }
  | { readonly type: 'call.done'; readonly data: unknown; readonly updates?: Json }
  | { readonly type: 'call.error'; readonly message: string }
  | { readonly type: 'command.completed' }
  | { readonly type: 'command.failed'; readonly message: string }
  /** A `kind: playbook` command: run the child, then report its outcome. */
  | { readonly type: 'child' }
  /** The trigger delivered again (a re-sent post that got a new event id). */
  | { readonly type: 'duplicate'; readonly of: 'command.completed' | 'command.failed' };

interface Flight {
  readonly command: Command;
  moves: readonly Move[];
  next: number;
}

export interface WorldConfig {
  readonly failRate: number;
  readonly retryRate: number;
  readonly cancelRate: number;
  readonly stepBudget?: number;
}

/** The PRNG and the counters behind ids and the clock; a child execution shares its parent's. */
export class Core {
  constructor(
    readonly rng: Rng,
    public lastId: number,
    public time: number,
  ) {}

  copy(): Core {
    return new Core(this.rng.copy(), this.lastId, this.time);
  }
}

/** The commands in flight and what workers will do with them; copyable. */
export class World {
  inflight: Flight[] = [];
  /** Rows left in each cursor loop's table, by `<execution>:<step>` (filled at its first claim). */
  tables = new Map<string, number>();
  constructor(
    readonly core: Core,
    readonly config: WorldConfig,
  ) {}

  copy(): World {
    const w = new World(this.core.copy(), this.config);
    w.inflight = this.inflight.map((f) => ({ ...f }));
    w.tables = new Map(this.tables);
    return w;
  }

  /** A world for a child execution: the same PRNG and counters, its own commands. */
  child(): World {
    return new World(this.core, this.config);
  }

  deps(templates: TemplateRenderer): EngineDeps {
    const core = this.core;
    return {
      ids: { next: () => String(++core.lastId) },
      clock: { now: () => (core.time += 7) },
      templates,
      ...(this.config.stepBudget !== undefined ? { stepBudget: this.config.stepBudget } : {}),
    };
  }

  /** Queues new commands with the moves a worker will make for each. */
  add(commands: readonly Command[]): void {
    for (const command of commands) this.inflight.push({ command, moves: this.script(command), next: 0 });
  }

  private script(command: Command): Move[] {
    const { config } = this;
    const rng = this.core.rng;
    const moves: Move[] = [];
    if (rng.chance(0.5)) moves.push({ type: 'command.claimed', worker: 'w1' });
    if (rng.chance(0.1)) moves.push({ type: 'command.claimed', worker: 'w2' }); // lease lost, re-claimed
    moves.push({ type: 'command.started' });
    if (command.tool_kind === 'playbook') {
      moves.push({ type: 'child' });
      return moves;
    }
    while (rng.chance(config.retryRate)) {
      moves.push({ type: 'call.error', message: 'transient' }, { type: 'command.started' });
    }
    if (rng.chance(config.failRate)) {
      moves.push({ type: 'call.error', message: 'boom' }, { type: 'command.failed', message: 'boom' });
      if (rng.chance(0.05)) moves.push({ type: 'duplicate', of: 'command.failed' });
    } else {
      const updates = rng.chance(0.15) ? { updates: { 'ctx.seen': true } } : {};
      const data = command.command_id.endsWith(':claim') ? this.claim(command) : { v: rng.int(10) };
      moves.push({ type: 'call.done', data, ...updates }, { type: 'command.completed' });
      if (rng.chance(0.05)) moves.push({ type: 'duplicate', of: 'command.completed' });
    }
    return moves;
  }

  /** A cursor claim's result: up to `__frame_max_rows` rows taken from the step's table. */
  private claim(command: Command): Json {
    const key = `${command.execution_id}:${command.step}`;
    const left = this.tables.get(key) ?? this.core.rng.int(8);
    const take = Math.min(left, Number(command.render_context['__frame_max_rows']));
    this.tables.set(key, left - take);
    const rows = Array.from({ length: take }, (_, k) => ({ id: left - k }));
    return { columns: ['id'], rows, row_count: rows.length };
  }
}

export interface RunLog {
  readonly events: ExecutionEvent[];
  readonly commands: Command[];
}

export interface RunHooks {
  /** After each unit the server appends at once (a worker event and the decision it triggers). */
  readonly boundary?: (state: ExecutionState, world: World, log: RunLog) => void;
  /** Runs a child playbook for a `kind: playbook` command; returns whether it completed. */
  readonly child: (world: World, parent: ExecutionState, command: Command) => boolean;
}

const MAX_EVENTS = 2_000;

/** Drives an execution until no command is left (or the event guard trips). */
export function runWorld(
  state: ExecutionState,
  world: World,
  templates: TemplateRenderer,
  hooks: RunHooks,
  log: RunLog = { events: [], commands: [] },
  /** Events of the execution before `log` (a continuation's prefix), for the guard. */
  before = 0,
): RunLog {
  const deps = world.deps(templates);
  const record = (events: readonly ExecutionEvent[], commands: readonly Command[]): void => {
    log.events.push(...events);
    log.commands.push(...commands);
    world.add(commands);
  };
  while (world.inflight.length > 0 && before + log.events.length < MAX_EVENTS) {
    if (state.status === 'RUNNING' && world.core.rng.chance(world.config.cancelRate)) {
      record(cancelExecution(state, 'cancelled by the test', deps).events, []);
      hooks.boundary?.(state, world, log);
      continue;
    }
    const index = world.core.rng.int(world.inflight.length);
    const flight = world.inflight[index]!;
    let move = flight.moves[flight.next++]!;
    if (move.type === 'child') {
      const ok = hooks.child(world, state, flight.command);
      move = ok
        ? { type: 'call.done', data: { child: 'COMPLETED' } }
        : { type: 'call.error', message: 'child failed' };
      flight.moves = [
        ...flight.moves.slice(0, flight.next),
        ok ? { type: 'command.completed' } : { type: 'command.failed', message: 'child failed' },
      ];
    }
    if (flight.next >= flight.moves.length) world.inflight.splice(index, 1);
    const event = workerEvent(state, world, deps, flight.command, move);
    applyEvent(state, event);
    record([event], []);
    if (TRIGGER_EVENT_TYPES.has(event.event_type)) {
      const decision = decide(state, event, deps);
      record(decision.events, decision.commands);
    }
    hooks.boundary?.(state, world, log);
  }
  return log;
}

function workerEvent(
  state: ExecutionState,
  world: World,
  deps: EngineDeps,
  command: Command,
  move: Exclude<Move, { type: 'child' }>,
): ExecutionEvent {
  const base = (payload: Json, extra: { error?: string; workerId?: string } = {}) => ({
    executionId: state.executionId,
    step: command.step,
    commandId: command.command_id,
    eventId: deps.ids.next(),
    createdAt: new Date(deps.clock.now()).toISOString(),
    payload: { command_id: command.command_id, ...payload },
    ...extra,
  });
  switch (move.type) {
    case 'command.claimed': {
      const b = base({ worker_id: move.worker });
      return {
        execution_id: b.executionId,
        event_id: b.eventId,
        event_type: 'command.claimed',
        node_name: command.step,
        status: 'RUNNING',
        created_at: b.createdAt,
        parent_event_id: command.event_id,
        result: { status: 'RUNNING', context: { command_id: command.command_id, worker_id: move.worker } },
        meta: { command_id: command.command_id, worker_id: move.worker, actionable: false },
        worker_id: move.worker,
      };
    }
    case 'command.started':
      return commandEvent('command.started', base({}, { workerId: 'w1' }));
    case 'call.done':
      return commandEvent(
        'call.done',
        base({
          call_index: 0,
          result: {
            status: 'success',
            context: {
              status: 'success',
              data: move.data,
              ...(move.updates ? { context_updates: move.updates } : {}),
            },
          },
        }),
      );
    case 'call.error':
      return commandEvent(
        'call.error',
        base(
          { call_index: 0, error: { message: move.message, code: 'TOOL_FAILED' } },
          { error: move.message },
        ),
      );
    case 'command.completed':
      return commandEvent('command.completed', base({ status: 'COMPLETED' }));
    case 'command.failed':
      return commandEvent(
        'command.failed',
        base({ error: { message: move.message, code: 'TOOL_FAILED' } }, { error: move.message }),
      );
    case 'duplicate':
      return move.of === 'command.completed'
        ? commandEvent('command.completed', base({ status: 'COMPLETED' }))
        : commandEvent(
            'command.failed',
            base({ error: { message: 'boom', code: 'TOOL_FAILED' } }, { error: 'boom' }),
          );
  }
}

/** Starts an execution of a generated playbook in a world. */
export function startIn(
  gen: Generated,
  world: World,
  templates: TemplateRenderer,
  parentExecutionId?: string,
): { state: ExecutionState; log: RunLog } {
  const deps = world.deps(templates);
  const executionId = deps.ids.next();
  const startedAt = deps.clock.now();
  const workloadErrors: Record<string, { code: string; message: string }> = {};
  const { state, decision } = startExecution(
    gen.playbook,
    {
      executionId,
      workload: effectiveWorkload(gen.playbook, {}, templates, { now: startedAt, errors: workloadErrors }),
      workloadErrors,
      startedAt,
      ...(gen.entry !== undefined ? { entry: gen.entry } : {}),
      ...(parentExecutionId !== undefined ? { parentExecutionId } : {}),
    },
    deps,
  );
  world.add(decision.commands);
  return { state, log: { events: [...decision.events], commands: [...decision.commands] } };
}

// ---- comparing states ------------------------------------------------------------------------

/**
 * The whole state as canonical JSON (object keys sorted; Map and Set entries in their order,
 * which the engine iterates): everything but the playbook, which both sides share.
 */
export function serialise(state: ExecutionState): string {
  const { playbook: _playbook, ...rest } = state;
  return canonical(rest);
}

function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? '"<undefined>"';
  if (value instanceof Map) {
    let out = '{"<map>":[';
    let first = true;
    for (const [k, v] of value as Map<unknown, unknown>) {
      out += `${first ? '' : ','}[${canonical(k)},${canonical(v)}]`;
      first = false;
    }
    return `${out}]}`;
  }
  if (value instanceof Set) return `{"<set>":[${Array.from(value as Set<unknown>, canonical).join(',')}]}`;
  if (Array.isArray(value)) return `[${Array.from(value, canonical).join(',')}]`;
  const record = value as Json;
  let out = '{';
  let first = true;
  for (const key of Object.keys(record).sort()) {
    const v = record[key];
    if (v === undefined) continue;
    out += `${first ? '' : ','}${JSON.stringify(key)}:${canonical(v)}`;
    first = false;
  }
  return `${out}}`;
}
