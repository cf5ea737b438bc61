import type { EventView } from '../../client/index.js';
import { duration } from '../output.js';

/** What a tracked event means for the terminal: a finished step's line, or what runs now. */
export type ProgressUpdate =
  { readonly kind: 'line'; readonly text: string } | { readonly kind: 'status'; readonly text: string };

interface TrackedStep {
  enteredAt?: number;
  total?: number;
  readonly done: Set<string>;
  failed: number;
  finished: boolean;
  /** A cursor loop (commands with `meta.cursor`): ended by its `step.exit` or a failure. */
  cursor?: boolean;
}

function commandIdOf(e: EventView): string {
  const id = e.meta?.['command_id'];
  return typeof id === 'string' ? id : e.event_id;
}

function stepOf(e: EventView): string {
  const step = e.meta?.['step'];
  return e.node_name === '' && typeof step === 'string' ? step : e.node_name;
}

function errorOf(e: EventView): string {
  if (e.error) return e.error;
  const ctx = (e.result as { context?: { error?: unknown } } | null | undefined)?.context;
  const err = ctx?.error;
  if (typeof err === 'string') return err;
  if (err && typeof err === 'object' && typeof (err as { message?: unknown }).message === 'string') {
    return (err as { message: string }).message;
  }
  return '';
}

/**
 * Step progress from the polled event log (contract 3.3), the server-side counterpart of
 * progress.ts: `step.enter` starts a step, its commands' `command.completed` / `command.failed`
 * (all iterations of a loop) or `step.exit` end it, `step.skipped` marks it skipped. Durations
 * come from the events' server timestamps.
 */
export class StepTracker {
  private readonly steps = new Map<string, TrackedStep>();
  /** Steps entered (`step.enter`), each once: the steps an execution ran. */
  private readonly entered = new Set<string>();

  /** How many distinct steps were entered, as `noetl run` counts the steps it ran. */
  stepsRun(): number {
    return this.entered.size;
  }

  private step(name: string): TrackedStep {
    let s = this.steps.get(name);
    if (!s) {
      s = { done: new Set(), failed: 0, finished: false };
      this.steps.set(name, s);
    }
    return s;
  }

  private took(s: TrackedStep, e: EventView): string {
    const end = Date.parse(e.created_at);
    return s.enteredAt !== undefined && Number.isFinite(end) ? duration(end - s.enteredAt) : '';
  }

  private loop(s: TrackedStep): string {
    return s.total !== undefined ? ` [${s.done.size}/${s.total}]` : '';
  }

  onEvent(e: EventView): ProgressUpdate | undefined {
    if (e.node_name === 'playbook' || e.node_name === '__orchestrate__') return undefined;
    const name = stepOf(e);
    switch (e.event_type) {
      case 'step.enter': {
        this.entered.add(name);
        // a fresh entry, also when a workflow loop re-enters a finished step
        this.steps.set(name, {
          enteredAt: Date.parse(e.created_at),
          done: new Set(),
          failed: 0,
          finished: false,
        });
        return { kind: 'status', text: `  … ${name}` };
      }
      case 'step.skipped':
        return { kind: 'line', text: `  - ${name} (skipped)` };
      case 'command.issued': {
        const s = this.step(name);
        const total = e.meta?.['iteration_total'];
        if (typeof total === 'number') s.total = total;
        if (e.meta?.['cursor'] !== undefined) s.cursor = true;
        return undefined;
      }
      case 'command.completed':
      case 'command.failed':
      case 'step.exit': {
        const s = this.step(name);
        if (s.finished) return undefined;
        if (e.event_type === 'command.failed') s.failed++;
        else if (e.event_type === 'command.completed') s.done.add(commandIdOf(e));
        const all = s.cursor
          ? s.failed > 0 || e.event_type === 'step.exit'
          : s.total === undefined || s.done.size + s.failed >= s.total || e.event_type === 'step.exit';
        if (!all) return { kind: 'status', text: `  … ${name} ${s.done.size + s.failed}/${s.total ?? '?'}` };
        s.finished = true;
        if (s.failed > 0)
          return {
            kind: 'line',
            text: `  ✗ ${name}${this.loop(s)}  ${this.took(s, e)}  ${errorOf(e)}`.trimEnd(),
          };
        return { kind: 'line', text: `  ✓ ${name}${this.loop(s)}  ${this.took(s, e)}`.trimEnd() };
      }
      default:
        return undefined;
    }
  }
}

/** Writes progress to a stream: finished steps as lines; on a terminal also a transient status. */
export class ProgressWriter {
  private transient = false;

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly live: boolean,
  ) {}

  write(update: ProgressUpdate | undefined): void {
    if (!update) return;
    if (update.kind === 'line') {
      if (this.transient) this.out.write('\r\x1b[K');
      this.transient = false;
      this.out.write(`${update.text}\n`);
    } else if (this.live) {
      this.out.write(`\r\x1b[K${update.text.slice(0, (this.out.columns || 80) - 1)}`);
      this.transient = true;
    }
  }

  end(): void {
    if (this.transient) this.out.write('\r\x1b[K');
    this.transient = false;
  }
}
