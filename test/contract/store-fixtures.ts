import { SnowflakeIdGenerator, systemClock } from '../../src/shared/index.js';
import type { CommandInput, EventInput, Store } from '../../src/store/index.js';

/** What an adapter's test file hands to the contract suite. */
export interface StoreFixture {
  readonly store: Store;
  /** A second store on the same database, like another server replica (PostgreSQL only). */
  readonly peer?: Store;
  dispose(): Promise<void>;
}

export type StoreFactory = () => Promise<StoreFixture>;

/** Test ids: a machine id of their own so they never meet the store's. */
export const ids = new SnowflakeIdGenerator(systemClock, 777);

export interface Started {
  readonly executionId: string;
  readonly catalogId: string;
  readonly commandId: string;
  readonly commandKey: string;
}

export function event(executionId: string, eventType: string, extra: Partial<EventInput> = {}): EventInput {
  return { executionId, eventId: ids.next(), eventType, nodeName: 'step1', ...extra };
}

export function command(executionId: string, commandId: string, step = 'step1'): CommandInput {
  return {
    commandId,
    commandKey: `${executionId}:${step}:${commandId}`,
    executionId,
    stepName: step,
    toolKind: 'python',
    executionPool: 'default',
    context: { tool_config: { code: 'x = 1' }, args: { a: 1 }, render_context: {} },
    meta: { max_attempts: 3 },
  };
}

/** What `POST /api/execute` writes: start, enter, one issued command with its row. */
export async function startExecution(
  store: Store,
  options: { path?: string; catalogId?: string } = {},
): Promise<Started> {
  const executionId = ids.next();
  const catalogId = options.catalogId ?? ids.next();
  const commandId = ids.next();
  const cmd = command(executionId, commandId);
  await store.events.append({
    execution: { executionId, catalogId, path: options.path ?? 'tests/contract', workload: { n: 1 } },
    events: [
      event(executionId, 'playbook_started', { catalogId, nodeName: 'playbook', nodeType: 'execution' }),
      event(executionId, 'step.enter', { catalogId }),
      {
        executionId,
        eventId: commandId,
        eventType: 'command.issued',
        catalogId,
        nodeName: 'step1',
        nodeType: 'python',
        status: 'PENDING',
        meta: { command_id: cmd.commandKey, step: 'step1', tool_kind: 'python' },
      },
    ],
    commands: [cmd],
  });
  return { executionId, catalogId, commandId, commandKey: cmd.commandKey };
}

/** Settles every promise and counts outcomes. */
export async function settle<T>(promises: Promise<T>[]): Promise<{ ok: T[]; errors: unknown[] }> {
  const results = await Promise.allSettled(promises);
  const ok: T[] = [];
  const errors: unknown[] = [];
  for (const r of results) {
    if (r.status === 'fulfilled') ok.push(r.value);
    else errors.push(r.reason);
  }
  return { ok, errors };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
