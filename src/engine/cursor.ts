import type { Step, ToolSpec } from '../dsl/index.js';

/**
 * Cursor loops (`loop.spec.mode: cursor`, docs/dsl.md "Cursor loops"): the loop has no list; it
 * has `max_in_flight` slots, and each slot runs the loop's claim statement as a command of its
 * own (a postgres command through the normal claim gate), runs the step's tool once per claimed
 * row, and claims again, until a claim returns no row. The claimed rows arrive in the claim
 * command's `call.done` event, so a replay reads them from the log and never runs the SQL again.
 */

/** Rows one slot claims at most when `cursor.options.max_iterations` is not given (as NoETL). */
export const DEFAULT_CURSOR_MAX_ITERATIONS = 100_000;

/** One slot of a cursor loop: claim a frame, run its rows, claim again until drained. */
export interface CursorSlot {
  /** A claim command of the slot is in flight. */
  claiming: boolean;
  /** Its last claim returned no row. */
  drained: boolean;
  /** Claims of the slot that returned rows. */
  frames: number;
  /** Rows the slot claimed. */
  claimed: number;
  /** Loop items [next, end) of its current frame not issued yet. */
  next: number;
  end: number;
  /** Its body commands in flight. */
  inFlight: number;
}

/** The cursor part of a loop run, built from the `step.enter` event's context. */
export interface CursorRun {
  /** `spec.frame.max_rows`: `__frame_max_rows` of the claim (default 1). */
  readonly maxRows: number;
  /** `spec.frame.row_concurrency`: rows of one frame run at a time (default 1). */
  readonly rowConcurrency: number;
  /** `spec.frame.process: frame`: one run per claimed frame, the iterator bound to its rows. */
  readonly perFrame: boolean;
  /** `cursor.options.max_iterations`: rows a slot claims at most, then it stops. */
  readonly maxIterations: number;
  readonly slots: CursorSlot[];
  /** The loop's items, appended as claims return rows (the same array as `LoopRun.items`). */
  readonly items: unknown[];
}

/** What a cursor loop's `step.enter` records (rendered once, so a replay renders nothing). */
export interface CursorEnter {
  readonly slots: number;
  readonly maxRows: number;
  readonly rowConcurrency: number;
  readonly perFrame: boolean;
  readonly maxIterations: number;
}

function positive(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 ? value : fallback;
}

/** The `step.enter` context fields of a cursor loop. */
export function cursorEnterContext(c: CursorEnter): Record<string, unknown> {
  return {
    __cursor_loop: true,
    max_in_flight: c.slots,
    frame: { max_rows: c.maxRows, row_concurrency: c.rowConcurrency, process: c.perFrame ? 'frame' : 'row' },
    max_iterations: c.maxIterations,
  };
}

/** The cursor run a `step.enter` context describes, or undefined when it is not a cursor loop. */
export function cursorRunOf(ctx: Readonly<Record<string, unknown>>): CursorRun | undefined {
  if (ctx['__cursor_loop'] !== true) return undefined;
  const frame = ctx['frame'];
  const f = frame !== null && typeof frame === 'object' ? (frame as Record<string, unknown>) : {};
  const slots = positive(ctx['max_in_flight'], 1);
  return {
    maxRows: positive(f['max_rows'], 1),
    rowConcurrency: positive(f['row_concurrency'], 1),
    perFrame: f['process'] === 'frame',
    maxIterations: positive(ctx['max_iterations'], DEFAULT_CURSOR_MAX_ITERATIONS),
    slots: Array.from({ length: slots }, () => ({
      claiming: false,
      drained: false,
      frames: 0,
      claimed: 0,
      next: 0,
      end: 0,
      inFlight: 0,
    })),
    items: [],
  };
}

/** A slot claims no more: its last claim was empty, or it claimed `max_iterations` rows. */
export function slotFinished(cursor: CursorRun, slot: CursorSlot): boolean {
  return slot.drained || slot.claimed >= cursor.maxIterations;
}

/** Every slot finished and ran every row it claimed (nothing in flight is checked by the caller). */
export function cursorDrained(cursor: CursorRun): boolean {
  return cursor.slots.every((slot) => slotFinished(cursor, slot) && slot.next === slot.end);
}

/** The rows of a claim's result (`{columns, rows, row_count}`); undefined when it has none. */
export function claimedRows(data: unknown): readonly unknown[] | undefined {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return undefined;
  const rows = (data as Record<string, unknown>)['rows'];
  return Array.isArray(rows) ? rows : undefined;
}

/** Adds a claim's rows to the loop (one item per row, or one per frame) as the slot's frame. */
export function addFrame(cursor: CursorRun, slot: CursorSlot, rows: readonly unknown[]): void {
  if (rows.length === 0) {
    slot.drained = true;
    return;
  }
  slot.next = cursor.items.length;
  if (cursor.perFrame) cursor.items.push(rows);
  else for (const row of rows) cursor.items.push(row);
  slot.end = cursor.items.length;
  slot.frames++;
  slot.claimed += rows.length;
}

/** The cursor fields of a `command.issued` meta (`{phase, slot, frame}`). */
export interface CursorMeta {
  readonly phase: 'claim' | 'body';
  readonly slot: number;
}

export function cursorMetaOf(meta: Readonly<Record<string, unknown>> | undefined): CursorMeta | undefined {
  const c = meta?.['cursor'];
  if (c === null || typeof c !== 'object') return undefined;
  const { phase, slot } = c as Record<string, unknown>;
  if ((phase !== 'claim' && phase !== 'body') || typeof slot !== 'number') return undefined;
  return { phase, slot };
}

const claimSteps = new WeakMap<Step, Step>();

/**
 * The step a claim command runs: the loop's `cursor` as a single postgres tool whose `command`
 * is the claim statement (its other keys, `auth` first, are the tool's config). Cached per step,
 * so the names its templates read are scanned once.
 */
export function claimStepOf(def: Step): Step {
  const hit = claimSteps.get(def);
  if (hit) return hit;
  const { kind, claim, options: _options, ...rest } = def.loop?.cursor ?? {};
  const tool: ToolSpec = {
    shape: 'single',
    tasks: [
      {
        label: def.name,
        kind: typeof kind === 'string' ? kind : 'postgres',
        config: { ...rest, command: claim },
      },
    ],
  };
  const step: Step = { name: def.name, tool, position: def.position };
  claimSteps.set(def, step);
  return step;
}
