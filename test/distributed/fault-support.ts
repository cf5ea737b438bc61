/**
 * What every fault scenario shares: the playbook (a chain, a parallel loop, a fan-out and a
 * fan-in, each step a short shell sleep), starting several executions, and the exactly-once
 * check over each execution's event log.
 */
import { expect } from 'vitest';
import { waitFor, type Cluster, type ExecutionEventView } from '../helpers/cluster.js';

export const CI = process.env['CI'] === 'true' || process.env['CI'] === '1';

export const PLAYBOOK_PATH = 'tests/fault/mixed';
const ITEMS = [1, 2, 3, 4];

/** start -> prep -> fan (parallel loop of 4) -> {left, right} -> join -> end. */
export const PLAYBOOK = `apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: fault_mixed, path: ${PLAYBOOK_PATH} }
workload:
  items: ${JSON.stringify(ITEMS)}
workflow:
  - step: start
    tool: { kind: shell, command: "sleep 0.3; echo start" }
    next: [ prep ]
  - step: prep
    tool: { kind: shell, command: "sleep 0.3; echo prep" }
    next: [ fan ]
  - step: fan
    loop: { in: "{{ workload.items }}", iterator: item, spec: { mode: parallel } }
    tool: { kind: shell, command: "sleep 0.3; echo {{ item }}" }
    next: [ left, right ]
  - step: left
    tool: { kind: shell, command: "sleep 0.3; echo left" }
    next: [ join ]
  - step: right
    tool: { kind: shell, command: "sleep 0.3; echo right" }
    next: [ join ]
  - step: join
    tool: { kind: shell, command: "sleep 0.3; echo join" }
    next: [ end ]
  - step: end
    tool: { kind: shell, command: "sleep 0.3; echo end" }
`;

export const STEPS = ['end', 'fan', 'join', 'left', 'prep', 'right', 'start'];
/** Commands one execution issues: one per step, one per loop iteration. */
export const COMMANDS_PER_EXECUTION = STEPS.length - 1 + ITEMS.length;

/** Starts `count` executions, round-robin over `serverIndexes`. */
export async function startExecutions(
  cluster: Cluster,
  count: number,
  serverIndexes: readonly number[] = [0],
): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    ids.push(await cluster.execute(PLAYBOOK_PATH, serverIndexes[i % serverIndexes.length]));
  }
  return ids;
}

/** Waits until `count` commands of these executions completed (the fault hits mid-run). */
export async function waitForProgress(
  cluster: Cluster,
  ids: readonly string[],
  count: number,
): Promise<number> {
  return waitFor(
    async () => {
      const n = await cluster.completedCommands(ids);
      return n >= count ? n : undefined;
    },
    `${count} completed commands`,
    60_000,
    { intervalMs: 50 },
  );
}

/** Waits until every execution left RUNNING; returns the statuses. */
export async function waitForAll(
  cluster: Cluster,
  ids: readonly string[],
  timeoutMs = 90_000,
  serverIndex = 0,
): Promise<Map<string, string>> {
  const statuses = new Map<string, string>();
  await waitFor(
    async () => {
      for (const id of ids) {
        if (statuses.has(id)) continue;
        const s = await cluster.status(id, serverIndex);
        if (s !== 'RUNNING') statuses.set(id, s);
      }
      return statuses.size === ids.length ? true : undefined;
    },
    `${ids.length} executions to finish`,
    timeoutMs,
    { intervalMs: 200 },
  );
  return statuses;
}

export interface CommandHistory {
  readonly step: string;
  /** Workers that claimed it, in order (more than one after a release). */
  readonly claimedBy: string[];
  readonly completedBy: string[];
  completions: number;
}

/**
 * The exactly-once check: the execution COMPLETED, every issued command has exactly one
 * `command.completed` (keyed by meta.command_id) and none failed, and every step completed.
 */
export async function expectCompletedExactlyOnce(
  cluster: Cluster,
  id: string,
  serverIndex = 0,
): Promise<Map<string, CommandHistory>> {
  const events: ExecutionEventView[] = await cluster.events(id, serverIndex);
  const commands = new Map<string, CommandHistory>();
  const entry = (e: ExecutionEventView): CommandHistory | undefined => {
    const cid = e.meta?.command_id;
    if (cid === undefined) return undefined;
    let h = commands.get(cid);
    if (!h) {
      h = { step: e.node_name ?? '', claimedBy: [], completedBy: [], completions: 0 };
      commands.set(cid, h);
    }
    return h;
  };
  let failed = 0;
  let terminal = 0;
  for (const e of events) {
    if (e.event_type === 'playbook.completed') terminal++;
    if (e.event_type === 'command.failed') failed++;
    const h = entry(e);
    if (!h) continue;
    const worker = e.meta?.worker_id ?? e.worker_id ?? '?';
    if (e.event_type === 'command.claimed') h.claimedBy.push(worker);
    if (e.event_type === 'command.completed') {
      h.completions++;
      h.completedBy.push(worker);
    }
  }
  const status = await cluster.status(id, serverIndex);
  expect({ id, status, failed, terminal }).toEqual({ id, status: 'COMPLETED', failed: 0, terminal: 1 });
  const perCommand = [...commands].map(([cid, h]) => ({ cid, completions: h.completions }));
  expect(perCommand).toHaveLength(COMMANDS_PER_EXECUTION);
  for (const c of perCommand) expect(c).toEqual({ cid: c.cid, completions: 1 });
  const completedSteps = [...new Set([...commands.values()].map((h) => h.step))].sort();
  expect(completedSteps).toEqual(STEPS);
  return commands;
}

/** Checks every execution, merging their command histories. */
export async function expectAllExactlyOnce(
  cluster: Cluster,
  ids: readonly string[],
  serverIndex = 0,
): Promise<Map<string, CommandHistory>> {
  const all = new Map<string, CommandHistory>();
  for (const id of ids) {
    for (const [cid, h] of await expectCompletedExactlyOnce(cluster, id, serverIndex)) all.set(cid, h);
  }
  return all;
}
