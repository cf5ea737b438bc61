import { commandIdOf, type ExecutionEvent, type ExecutionState, type StepState } from '../engine/index.js';

function duration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)}ms` : `${(ms / 1000).toFixed(2)}s`;
}

/** The step an event is about: command events name it through their command id. */
function stepOf(event: ExecutionEvent, state: ExecutionState): StepState | undefined {
  const commandId = commandIdOf(event);
  const name = commandId ? (state.commands.get(commandId)?.step ?? event.node_name) : event.node_name;
  return state.steps.get(name);
}

/**
 * Live step progress on a terminal: one line per finished or skipped step with its duration, and
 * a transient line for what is running (loops as `done/total`).
 */
export class StepProgress {
  private transient = false;

  constructor(private readonly out: NodeJS.WriteStream) {}

  private line(text: string): void {
    if (this.transient) this.out.write('\r\x1b[K');
    this.transient = false;
    this.out.write(`${text}\n`);
  }

  private status(text: string): void {
    this.out.write(`\r\x1b[K${text.slice(0, (this.out.columns || 80) - 1)}`);
    this.transient = true;
  }

  onEvent(event: ExecutionEvent, state: ExecutionState): void {
    if (event.event_type === 'step.skipped') {
      this.line(`  - ${event.node_name} (skipped)`);
      return;
    }
    const s = stepOf(event, state);
    if (!s) return;
    if (s.completionEventId === event.event_id) {
      const took =
        s.completedAt !== undefined && s.enteredAt !== undefined ? duration(s.completedAt - s.enteredAt) : '';
      const loop = s.loop ? ` [${s.loop.completed}/${s.loop.items.length}]` : '';
      if (s.status === 'completed') this.line(`  ✓ ${s.name}${loop}  ${took}`);
      else if (s.status === 'failed') this.line(`  ✗ ${s.name}${loop}  ${took}  ${s.error?.message ?? ''}`);
      return;
    }
    if (event.event_type === 'step.enter' || event.event_type === 'command.completed') {
      const loop = s.loop ? ` ${s.loop.completed + s.loop.failed}/${s.loop.items.length}` : '';
      this.status(`  … ${s.name}${loop}`);
    }
  }

  end(): void {
    if (this.transient) this.out.write('\r\x1b[K');
    this.transient = false;
  }
}
