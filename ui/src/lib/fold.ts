import type { ExecutionPageSummary, Json, JsonObject, WireEvent } from '../api/types.js';

export type StepStatus = 'pending' | 'running' | 'completed' | 'failed' | 'skipped' | 'cancelled';

export interface Attempt {
  commandId: string;
  attempt: number;
  iteration: number | null;
  status: StepStatus;
  issuedAt: string;
  startedAt: string | null;
  endedAt: string | null;
  workerId: string | null;
  input: Json;
  result: Json;
  stdout: string | null;
  stderr: string | null;
  error: string | null;
  traceback: string | null;
}

export interface StepState {
  name: string;
  status: StepStatus;
  toolKind: string | null;
  enteredAt: string | null;
  endedAt: string | null;
  /** Loop steps: the iterations the loop will run, and how many have ended. */
  iterationsExpected: number | null;
  iterationsDone: number;
  /** Highest attempt number seen (retries = attempts - 1). */
  attempts: number;
  /** A cursor loop (commands carry `meta.cursor`): only its drain `step.exit` or a failure ends it. */
  cursor: boolean;
  commands: Attempt[];
  events: WireEvent[];
  /** Execution ids of sub-playbooks this step started. */
  children: string[];
}

export interface ExecutionState {
  status: 'RUNNING' | 'COMPLETED' | 'FAILED' | 'CANCELLED';
  steps: Map<string, StepState>;
  order: string[];
  error: string | null;
  startedAt: string | null;
  endedAt: string | null;
  /** The catalog version the execution runs (from `playbook_started`). */
  version: string | null;
  lastEventId: string | null;
  eventCount: number;
}

const isObj = (v: Json | undefined): v is JsonObject =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: Json | undefined): string | null => (typeof v === 'string' ? v : null);
const num = (v: Json | undefined): number | null => (typeof v === 'number' ? v : null);

export function emptyState(): ExecutionState {
  return {
    status: 'RUNNING',
    steps: new Map(),
    order: [],
    error: null,
    startedAt: null,
    endedAt: null,
    version: null,
    lastEventId: null,
    eventCount: 0,
  };
}

/**
 * A display state from the server's folded summary, drawn while the event log loads: step
 * statuses, attempts, loop progress and times, but no commands or events yet.
 */
export function stateFromSummary(summary: ExecutionPageSummary): ExecutionState {
  const state = emptyState();
  const status = summary.status;
  for (const terminal of ['COMPLETED', 'FAILED', 'CANCELLED'] as const)
    if (status === terminal) state.status = terminal;
  state.error = summary.error;
  state.startedAt = summary.started_at;
  state.endedAt = summary.completed_at;
  state.version = summary.version;
  state.lastEventId = summary.last_event_id;
  state.eventCount = summary.event_count ?? 0;
  for (const s of summary.steps) {
    const st = step(state, s.name);
    st.status = s.status;
    st.enteredAt = s.entered_at;
    st.endedAt = s.completed_at;
    st.attempts = s.attempts;
    if (s.loop) {
      st.iterationsExpected = s.loop.expected;
      st.iterationsDone = s.loop.done;
    }
  }
  return state;
}

function step(state: ExecutionState, name: string): StepState {
  let s = state.steps.get(name);
  if (!s) {
    s = {
      name,
      status: 'pending',
      toolKind: null,
      enteredAt: null,
      endedAt: null,
      iterationsExpected: null,
      cursor: false,
      iterationsDone: 0,
      attempts: 0,
      commands: [],
      events: [],
      children: [],
    };
    state.steps.set(name, s);
    state.order.push(name);
  }
  return s;
}

function commandIdOf(ev: WireEvent): string | null {
  if (isObj(ev.meta)) {
    const id = str(ev.meta['command_id']);
    if (id) return id;
  }
  if (isObj(ev.result) && isObj(ev.result['context'])) return str(ev.result['context']['command_id']);
  return null;
}

/** `result.context` of an event (the worker's payload). */
function payloadOf(ev: WireEvent): JsonObject | null {
  return isObj(ev.result) && isObj(ev.result['context']) ? ev.result['context'] : null;
}

function findChildren(value: Json | undefined, out: Set<string>, depth = 0): void {
  if (depth > 4 || !isObj(value)) return;
  for (const [k, v] of Object.entries(value)) {
    if ((k === 'execution_id' || k === 'child_execution_id') && typeof v === 'string' && /^\d+$/.test(v))
      out.add(v);
    else if (isObj(v)) findChildren(v, out, depth + 1);
  }
}

/**
 * Folds the event log into step states, as the server does (contract 3.4), for display:
 * idempotent per event id, so a stream that replays after a reconnect changes nothing.
 */
export function applyEvent(state: ExecutionState, ev: WireEvent, seen: Set<string>): void {
  if (seen.has(ev.event_id)) return;
  seen.add(ev.event_id);
  state.eventCount++;
  state.lastEventId = ev.event_id;
  const type = ev.event_type;
  const node = ev.node_name ?? 'playbook';
  if (node === 'playbook' || node === '__orchestrate__') {
    if (type === 'playbook_started' || type === 'playbook.initialized') {
      state.startedAt = ev.created_at;
      const v = isObj(ev.context) ? ev.context['version'] : null;
      if (typeof v === 'string' || typeof v === 'number') state.version = String(v);
    } else if (type === 'playbook.completed' || type === 'playbook_completed') {
      state.status = 'COMPLETED';
      state.endedAt = ev.created_at;
    } else if (type === 'playbook.failed' || type === 'playbook_failed') {
      state.status = 'FAILED';
      state.endedAt = ev.created_at;
      state.error = ev.error;
    } else if (/cancel/.test(type)) {
      state.status = 'CANCELLED';
      state.endedAt = ev.created_at;
      for (const s of state.steps.values())
        if (s.status === 'running' || s.status === 'pending') s.status = 'cancelled';
    }
    return;
  }
  const s = step(state, node);
  s.events.push(ev);
  const cid = commandIdOf(ev);
  const cmd = cid ? s.commands.find((c) => c.commandId === cid) : undefined;
  const payload = payloadOf(ev);
  switch (type) {
    case 'step.enter':
    case 'step_enter':
    case 'step_started': {
      s.status = 'running';
      s.enteredAt ??= ev.created_at;
      s.endedAt = null;
      const ctx = isObj(ev.context) ? ev.context : payload;
      const expected = ctx ? num(ctx['iterations_expected']) : null;
      if (expected !== null) {
        s.iterationsExpected = expected;
        s.iterationsDone = 0;
      }
      break;
    }
    case 'command.issued': {
      s.status = 'running';
      s.enteredAt ??= ev.created_at;
      if (ev.node_type) s.toolKind = ev.node_type;
      const meta = isObj(ev.meta) ? ev.meta : {};
      const attempt = num(meta['attempt']) ?? 1;
      s.attempts = Math.max(s.attempts, attempt);
      if (meta['cursor'] !== undefined) s.cursor = true;
      const ctx = isObj(ev.context) ? ev.context : {};
      const iteration = isObj(ctx['args']) ? num(ctx['args']['_index']) : null;
      const entry: Attempt = {
        commandId: cid ?? ev.event_id,
        attempt,
        iteration: num(meta['iteration_index']) ?? iteration,
        status: 'pending',
        issuedAt: ev.created_at,
        startedAt: null,
        endedAt: null,
        workerId: null,
        input: ctx['args'] ?? null,
        result: null,
        stdout: null,
        stderr: null,
        error: null,
        traceback: null,
      };
      if (cmd) Object.assign(cmd, entry);
      else s.commands.push(entry);
      break;
    }
    case 'command.claimed':
    case 'command.started':
      if (cmd) {
        cmd.status = 'running';
        cmd.startedAt ??= ev.created_at;
        cmd.workerId = ev.worker_id ?? (isObj(ev.meta) ? str(ev.meta['worker_id']) : null) ?? cmd.workerId;
      }
      break;
    case 'call.done':
    case 'call.error': {
      const result = payload && isObj(payload['result']) ? payload['result'] : null;
      const inner = result && isObj(result['context']) ? result['context'] : null;
      const errObj = payload && isObj(payload['error']) ? payload['error'] : null;
      const details = errObj && isObj(errObj['details']) ? errObj['details'] : null;
      if (cmd) {
        cmd.result = inner ? (inner['data'] ?? inner) : (result ?? null);
        cmd.stdout = str(inner?.['stdout']) ?? str(details?.['stdout']) ?? cmd.stdout;
        cmd.stderr = str(inner?.['stderr']) ?? str(details?.['stderr']) ?? cmd.stderr;
        if (type === 'call.error') {
          cmd.error = ev.error ?? str(errObj?.['message']) ?? 'failed';
          cmd.traceback = str(details?.['traceback']) ?? cmd.traceback;
        }
      }
      const found = new Set<string>();
      findChildren(result ?? undefined, found);
      for (const id of found) if (!s.children.includes(id)) s.children.push(id);
      break;
    }
    case 'command.completed':
    case 'command.failed': {
      const failed = type === 'command.failed';
      if (cmd) {
        cmd.status = failed ? 'failed' : 'completed';
        cmd.endedAt = ev.created_at;
        if (failed && !cmd.error) cmd.error = ev.error;
      }
      if (s.cursor) {
        // each claim and row is a command; the loop ends with its drain step.exit
        if (failed) {
          s.status = 'failed';
          s.endedAt = ev.created_at;
        }
      } else if (s.iterationsExpected !== null) {
        s.iterationsDone = new Set(
          s.commands
            .filter((c) => c.status === 'completed' || c.status === 'failed')
            .map((c) => c.iteration ?? c.commandId),
        ).size;
        if (failed) {
          s.status = 'failed';
          s.endedAt = ev.created_at;
        } else if (s.iterationsDone >= s.iterationsExpected && s.status !== 'failed') {
          s.status = 'completed';
          s.endedAt = ev.created_at;
        }
      } else {
        s.status = failed ? 'failed' : 'completed';
        s.endedAt = ev.created_at;
      }
      break;
    }
    case 'step.exit':
      s.status = 'completed';
      s.endedAt = ev.created_at;
      break;
    case 'step.skipped':
    case 'step_skipped':
      s.status = 'skipped';
      s.endedAt = ev.created_at;
      break;
    case 'step.failed':
      s.status = 'failed';
      s.endedAt = ev.created_at;
      break;
    default:
      break;
  }
}

/** The last attempt's failure of a step (for the panel and the graph's tooltip). */
export function lastError(s: StepState): Attempt | null {
  for (let i = s.commands.length - 1; i >= 0; i--) {
    const c = s.commands[i];
    if (c && (c.error || c.status === 'failed')) return c;
  }
  return null;
}
