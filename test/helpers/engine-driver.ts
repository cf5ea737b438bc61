/**
 * A synchronous driver for engine tests: runs commands with a fake tool function, in FIFO order
 * (or the order a test picks), folding and deciding like the local runner does.
 */
import { parsePlaybook } from '../../src/dsl/index.js';
import type { Playbook } from '../../src/dsl/index.js';
import { type Clock, type IdGenerator } from '../../src/shared/index.js';
import { templates } from '../../src/template/index.js';
import type { Command } from '../../src/engine/index.js';
import { decide, effectiveWorkload, startExecution, type EngineDeps } from '../../src/engine/index.js';
import { commandEvent, type ExecutionEvent } from '../../src/engine/index.js';
import { applyEvent, type ExecutionState } from '../../src/engine/index.js';

export type FakeOutcome =
  | { ok: true; data?: unknown; updates?: Record<string, unknown>; reference?: Record<string, unknown> }
  | { ok: false; message: string };

export function counterIds(): IdGenerator {
  let n = 1000;
  return { next: () => String(++n) };
}

export function fixedClock(): Clock {
  let t = Date.UTC(2026, 0, 1);
  return { now: () => (t += 1) };
}

export function playbookOf(yaml: string): Playbook {
  const { playbook, diagnostics } = parsePlaybook(yaml);
  if (!playbook) throw new Error(`invalid test playbook: ${JSON.stringify(diagnostics)}`);
  return playbook;
}

export interface DriveResult {
  readonly state: ExecutionState;
  readonly events: ExecutionEvent[];
  readonly commands: Command[];
}

export function drive(
  source: string | Playbook,
  tool: (command: Command, state: ExecutionState) => FakeOutcome,
  options: {
    payload?: Record<string, unknown>;
    pick?: (queue: Command[]) => number;
    entry?: string;
    stepBudget?: number;
  } = {},
): DriveResult {
  const playbook = typeof source === 'string' ? playbookOf(source) : source;
  const deps: EngineDeps = {
    ids: counterIds(),
    clock: fixedClock(),
    templates: templates(),
    ...(options.stepBudget !== undefined ? { stepBudget: options.stepBudget } : {}),
  };
  const { state, decision } = startExecution(
    playbook,
    {
      executionId: '1',
      workload: effectiveWorkload(playbook, options.payload ?? {}, deps.templates),
      ...(options.entry ? { entry: options.entry } : {}),
    },
    deps,
  );
  const events = [...decision.events];
  const all: Command[] = [...decision.commands];
  const queue: Command[] = [...decision.commands];
  let guard = 0;
  while (queue.length > 0 && state.status === 'RUNNING') {
    if (++guard > 100_000) throw new Error('runaway execution');
    const index = options.pick ? options.pick(queue) : 0;
    const command = queue.splice(index, 1)[0]!;
    const base = (payload: Record<string, unknown>) => ({
      executionId: '1',
      step: command.step,
      commandId: command.command_id,
      eventId: deps.ids.next(),
      createdAt: new Date(deps.clock.now()).toISOString(),
      payload: { command_id: command.command_id, ...payload },
    });
    const outcome = tool(command, state);
    const started = commandEvent('command.started', base({}));
    applyEvent(state, started);
    events.push(started);
    let trigger: ExecutionEvent;
    if (outcome.ok) {
      const done = commandEvent(
        'call.done',
        base({
          result: {
            status: 'success',
            context: {
              status: 'success',
              data: outcome.data ?? null,
              duration_ms: 0,
              ...(outcome.updates ? { context_updates: outcome.updates } : {}),
              ...(outcome.reference ? { reference: outcome.reference } : {}),
            },
          },
        }),
      );
      applyEvent(state, done);
      events.push(done);
      trigger = commandEvent('command.completed', base({ status: 'COMPLETED' }));
    } else {
      trigger = commandEvent('command.failed', {
        ...base({ error: { message: outcome.message, code: 'TOOL_FAILED' } }),
        error: outcome.message,
      });
    }
    applyEvent(state, trigger);
    events.push(trigger);
    const next = decide(state, trigger, deps);
    events.push(...next.events);
    all.push(...next.commands);
    queue.push(...next.commands);
  }
  return { state, events, commands: all };
}

export function typesOf(events: readonly ExecutionEvent[], step?: string): string[] {
  return events.filter((e) => step === undefined || e.node_name === step).map((e) => e.event_type);
}
