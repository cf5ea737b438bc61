/**
 * Replay property (STYLE.md rule 27): on generated playbooks run under random completion orders,
 * at every point the server could stop (after each worker event and the decision it triggers),
 * `replay(events so far)` equals the whole live state, and the engine continued from a replay
 * emits exactly the events and commands the live run emitted.
 *
 * Seeded: about NOETL_PROPERTY_RUNS cases (default 2,100: 700 playbooks, each under 3 worlds)
 * from NOETL_PROPERTY_SEED (default 1). A failure names its seed; rerun it alone with
 * NOETL_PROPERTY_SEED=<seed> NOETL_PROPERTY_RUNS=3.
 */
import { describe, expect, it } from 'vitest';
import { templates } from '../template/index.js';
import {
  Core,
  generatePlaybook,
  Rng,
  runWorld,
  serialise,
  startIn,
  World,
  type Generated,
  type RunHooks,
  type RunLog,
  type WorldConfig,
} from '../../test/helpers/replay-harness.js';
import { replay } from './decide.js';
import { applyEvent, type ExecutionState } from './state.js';

/** Generated playbooks; each runs under SCHEDULES worlds, so cases = PLAYBOOKS * SCHEDULES. */
const PLAYBOOKS = Math.ceil(Number(process.env['NOETL_PROPERTY_RUNS'] ?? 2100) / 3);
const SEED = Number(process.env['NOETL_PROPERTY_SEED'] ?? 1);
const SCHEDULES = 3;
const CUTS_PER_RUN = 2;
const CHUNK = 50;

const renderer = templates();

interface Stats {
  cases: number;
  runs: number;
  boundaries: number;
  cuts: number;
  waiting: number;
  reentered: number;
  loops: number;
  failed: number;
  completed: number;
  cancelled: number;
  children: number;
  entries: number;
  retries: number;
  overBudget: number;
  templateErrors: number;
  lazyWorkload: number;
  /** Runs where a cursor loop drained after claiming rows. */
  cursors: number;
}

class Divergence extends Error {}

function firstDifference(live: string, other: string): string {
  let i = 0;
  while (i < live.length && live[i] === other[i]) i++;
  const from = Math.max(0, i - 300);
  return `live:   …${live.slice(from, i + 200)}\nreplay: …${other.slice(from, i + 200)}`;
}

function same(what: string, live: string, other: string, gen: Generated): void {
  if (live !== other) {
    throw new Divergence(`${what}\nplaybook:\n${gen.source}\n${firstDifference(live, other)}`);
  }
}

/** Runs one execution (and, inside it, its children) checking the replay property throughout. */
function checkRun(
  gen: Generated,
  world: World,
  stats: Stats,
  depth: number,
  parent?: string,
): ExecutionState {
  stats.runs++;
  if (gen.entry !== undefined) stats.entries++;
  const { state, log } = startIn(gen, world, renderer, parent);
  let shadow: ExecutionState | undefined;
  let folded = 0;
  const snapshots: { events: number; commands: number; world: World; live: string }[] = [];
  const boundary = (st: ExecutionState, w: World, l: RunLog): void => {
    // The fold of the log so far, one event at a time: what a restart would rebuild.
    if (!shadow) {
      shadow = replay(gen.playbook, l.events.slice(0, 1));
      folded = 1;
    }
    for (; folded < l.events.length; folded++) applyEvent(shadow, l.events[folded]!);
    const live = serialise(st);
    same(`replay of ${l.events.length} events differs from the live state`, live, serialise(shadow), gen);
    snapshots.push({ events: l.events.length, commands: l.commands.length, world: w.copy(), live });
    stats.boundaries++;
  };
  const hooks: RunHooks = {
    boundary,
    child: (w, st) => runChild(w, st, stats, depth, true),
  };
  boundary(state, world, log);
  runWorld(state, world, renderer, hooks, log);

  // Continue from a replay of a prefix, with a copy of the world as it was then.
  const pickRng = new Rng(world.core.rng.state ^ 0x5bd1e995);
  for (let c = 0; c < CUTS_PER_RUN && snapshots.length > 1; c++) {
    const snap = snapshots[pickRng.int(snapshots.length - 1)]!;
    const replayed = replay(gen.playbook, log.events.slice(0, snap.events));
    same(`replay() of the first ${snap.events} events differs`, snap.live, serialise(replayed), gen);
    const cont = runWorld(
      replayed,
      snap.world.copy(),
      renderer,
      { child: (w, st) => runChild(w, st, stats, depth, false) },
      { events: [], commands: [] },
      snap.events,
    );
    same(
      `continuing from a replay of ${snap.events} events emits other events`,
      JSON.stringify(log.events.slice(snap.events)),
      JSON.stringify(cont.events),
      gen,
    );
    same(
      `continuing from a replay of ${snap.events} events issues other commands`,
      JSON.stringify(log.commands.slice(snap.commands)),
      JSON.stringify(cont.commands),
      gen,
    );
    same('the continued replay ends in another state', serialise(state), serialise(replayed), gen);
    stats.cuts++;
  }

  if (log.events.some((e) => e.event_type === 'step.waiting')) stats.waiting++;
  if ([...state.steps.values()].some((s) => s.runs > 1)) stats.reentered++;
  if ([...state.steps.values()].some((s) => s.loop !== undefined)) stats.loops++;
  if (log.events.filter((e) => e.event_type === 'command.started').length > state.commands.size)
    stats.retries++;
  if (state.status === 'FAILED') stats.failed++;
  if (state.status === 'COMPLETED') stats.completed++;
  if (state.status === 'CANCELLED') stats.cancelled++;
  if (log.events.some((e) => e.meta?.['code'] === 'STEP_BUDGET_EXCEEDED')) stats.overBudget++;
  if (log.events.some((e) => e.meta?.['code'] === 'TEMPLATE_RENDER')) stats.templateErrors++;
  if (log.events.some((e) => e.error?.startsWith('workload.broken') === true)) stats.lazyWorkload++;
  if (
    [...state.steps.values()].some(
      (s) => s.loop?.cursor && s.status === 'completed' && s.loop.items.length > 0,
    )
  )
    stats.cursors++;
  return state;
}

/** Children of `kind: playbook` steps come from small fixed pools (parsing is the dear part). */
const childPools: Generated[][] = [];
function childPlaybook(rng: Rng, depth: number): Generated {
  const pool = (childPools[depth] ??= Array.from({ length: 40 }, (_, i) =>
    generatePlaybook(new Rng(0x5eed + 1000 * depth + i), { depth }),
  ));
  return pool[rng.int(pool.length)]!;
}

function runChild(
  world: World,
  parent: ExecutionState,
  stats: Stats,
  depth: number,
  check: boolean,
): boolean {
  const gen = childPlaybook(world.core.rng, depth + 1);
  const childWorld = world.child();
  if (check) {
    stats.children++;
    return checkRun(gen, childWorld, stats, depth + 1, parent.executionId).status === 'COMPLETED';
  }
  const { state, log } = startIn(gen, childWorld, renderer, parent.executionId);
  runWorld(state, childWorld, renderer, { child: (w, st) => runChild(w, st, stats, depth + 1, false) }, log);
  return state.status === 'COMPLETED';
}

/** One generated playbook, run under SCHEDULES different worlds (orders, failures, budgets). */
function checkPlaybook(seed: number, stats: Stats): void {
  const gen = generatePlaybook(new Rng(seed), { depth: 0 });
  for (let schedule = 0; schedule < SCHEDULES; schedule++) {
    const rng = new Rng(Math.imul(seed, 0x9e3779b1) + schedule);
    const config: WorldConfig = {
      failRate: rng.pick([0, 0, 0.1, 0.3]),
      retryRate: rng.pick([0, 0.2]),
      cancelRate: rng.chance(0.1) ? 0.02 : 0,
      // Small budgets end some runs with STEP_BUDGET_EXCEEDED; the usual one stops runaway cycles.
      stepBudget: rng.chance(0.15) ? 3 + rng.int(20) : 30,
    };
    stats.cases++;
    try {
      checkRun(gen, new World(new Core(rng, 1000, Date.UTC(2026, 0, 1)), config), stats, 0);
    } catch (err) {
      const where = `seed ${seed} (schedule ${schedule})`;
      if (err instanceof Divergence) err.message = `${where}: ${err.message}`;
      else if (err instanceof Error) err.message = `${where}: ${err.message}\nplaybook:\n${gen.source}`;
      throw err;
    }
  }
}

describe('replay property', () => {
  const stats: Stats = {
    cases: 0,
    runs: 0,
    boundaries: 0,
    cuts: 0,
    waiting: 0,
    reentered: 0,
    loops: 0,
    failed: 0,
    completed: 0,
    cancelled: 0,
    children: 0,
    entries: 0,
    retries: 0,
    overBudget: 0,
    templateErrors: 0,
    lazyWorkload: 0,
    cursors: 0,
  };
  // Chunks, so no single test holds the worker for long.
  for (let from = 0; from < PLAYBOOKS; from += CHUNK) {
    const to = Math.min(PLAYBOOKS, from + CHUNK);
    it(`replays every prefix to the live state and continues the same way (playbooks ${from}-${to - 1})`, () => {
      for (let i = from; i < to; i++) checkPlaybook(SEED + i, stats);
    });
  }

  it('reached everything the property is about', () => {
    console.log(`replay property: ${JSON.stringify(stats)}`);
    if (PLAYBOOKS < 300) return; // too few cases to expect every feature
    for (const key of [
      'waiting',
      'reentered',
      'loops',
      'failed',
      'completed',
      'cancelled',
      'children',
      'entries',
      'retries',
      'overBudget',
      'templateErrors',
      'lazyWorkload',
      'cursors',
    ] as const) {
      expect(stats[key], key).toBeGreaterThan(0);
    }
  });
});
