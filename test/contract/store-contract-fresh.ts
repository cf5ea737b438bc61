import { describe, expect, it } from 'vitest';
import type { AppendBatch, CommandInput, EventInput, Store, StoreTx } from '../../src/store/index.js';
import { command, event, ids, startExecution, type Started, type StoreFixture } from './store-fixtures.js';

/**
 * Rows an append leaves, without the columns stamped with the transaction's time (`untimed`:
 * events written without a time of their own).
 */
async function rowsOf(tx: StoreTx, executionId: string, untimed: ReadonlySet<string> = new Set()) {
  const execution = await tx.executions.get(executionId);
  const commands = await tx.commands.listByExecution(executionId);
  const events = await tx.events.list(executionId);
  return {
    execution: execution && { ...execution, updatedAt: undefined },
    commands: commands
      .map((c) => ({ ...c, updatedAt: undefined, createdAt: undefined, claimedAt: c.claimedAt !== null }))
      .sort((a, b) => a.commandId.localeCompare(b.commandId)),
    events: events.map((e) => (untimed.has(e.eventId) ? { ...e, createdAt: 'the transaction time' } : e)),
  };
}

/** The append of `batch` with and without `fresh`: the rows each leaves must be the same. */
async function bothWays(store: Store, executionId: string, batch: AppendBatch) {
  const rolledBack = new Error('rolled back on purpose');
  const untimed = new Set([
    ...batch.events.filter((e) => e.createdAt === undefined).map((e) => e.eventId),
    ...(batch.claims ?? []).map((c) => c.eventId),
  ]);
  let general: Awaited<ReturnType<typeof rowsOf>> | undefined;
  await expect(
    store.withExecutionLock(executionId, async (tx) => {
      const r = await tx.events.append({ ...batch, fresh: false });
      expect(r.events.every((e) => e.inserted)).toBe(true);
      general = await rowsOf(tx, executionId, untimed);
      throw rolledBack;
    }),
  ).rejects.toBe(rolledBack);
  const fresh = await store.withExecutionLock(executionId, async (tx) => {
    const r = await tx.events.append({ ...batch, fresh: true });
    expect(r.events).toEqual(batch.events.map((e) => ({ eventId: e.eventId, inserted: true })));
    expect(r.commandsInserted).toBe(batch.commands?.length ?? 0);
    return { result: r, rows: await rowsOf(tx, executionId, untimed) };
  });
  return { general: general!, fresh: fresh.rows, result: fresh.result };
}

const at = (ms: number): string => new Date(Date.UTC(2026, 11, 6, 12, 0, 0, ms)).toISOString();

/** A worker's events about a command, each with its time. */
function workerEvents(s: Started, types: readonly string[], extra: Partial<EventInput> = {}): EventInput[] {
  return types.map((type, i) =>
    event(s.executionId, type, {
      commandKey: s.commandKey,
      workerId: 'w1',
      createdAt: at(i),
      idempotencyKey: `${s.commandKey}:${type}`,
      ...extra,
    }),
  );
}

/** The engine's events for a next step: step.enter, command.issued, and its command row. */
function nextStep(s: Started, step: string): { events: EventInput[]; command: CommandInput } {
  const commandId = ids.next();
  const cmd = { ...command(s.executionId, commandId, step), catalogId: s.catalogId };
  return {
    command: cmd,
    events: [
      event(s.executionId, 'step.enter', { nodeName: step, catalogId: s.catalogId, createdAt: at(10) }),
      {
        executionId: s.executionId,
        eventId: commandId,
        eventType: 'command.issued',
        catalogId: s.catalogId,
        nodeName: step,
        nodeType: 'python',
        status: 'PENDING',
        meta: { command_id: cmd.commandKey, step, tool_kind: 'python' },
        commandKey: cmd.commandKey,
        createdAt: at(11),
      },
    ],
  };
}

/**
 * `AppendBatch.fresh` lets a store write a batch whose events must all be new with a leaner
 * statement. Its rows must be those of the general append, and a repeated event must leave
 * nothing behind.
 */
export function freshAppendContract(get: () => StoreFixture): void {
  describe('fresh appends', () => {
    it('writes a chain step (worker events, next command claimed) as the general append does', async () => {
      const { store } = get();
      const s = await startExecution(store);
      const next = nextStep(s, 'step2');
      const batch: AppendBatch = {
        events: [...workerEvents(s, ['command.started', 'call.done', 'command.completed']), ...next.events],
        commands: [next.command],
        claims: [{ commandId: next.command.commandId, workerId: 'w2', eventId: ids.next() }],
      };
      const { general, fresh, result } = await bothWays(store, s.executionId, batch);
      expect(fresh).toEqual(general);
      expect(fresh.execution?.eventCount).toBe(3 + 6);
      const moved = fresh.commands.find((c) => c.commandId === s.commandId);
      expect(moved).toMatchObject({ status: 'COMPLETED', workerId: 'w1' });
      expect(moved?.startedAt).not.toBeNull();
      expect(result.claimed?.[0]?.command).toMatchObject({ status: 'CLAIMED', workerId: 'w2' });
    });

    it('writes a failure with its error, and an unclaimed next command, as the general append does', async () => {
      const { store } = get();
      const s = await startExecution(store);
      const next = nextStep(s, 'on_error');
      const batch: AppendBatch = {
        events: [
          ...workerEvents(s, ['command.claimed', 'command.started']),
          ...workerEvents(s, ['command.failed'], { error: 'boom', workerId: 'w9', createdAt: at(5) }),
          ...next.events,
        ],
        commands: [next.command],
      };
      const { general, fresh } = await bothWays(store, s.executionId, batch);
      expect(fresh).toEqual(general);
      expect(fresh.commands.find((c) => c.commandId === s.commandId)).toMatchObject({
        status: 'FAILED',
        error: 'boom',
        workerId: 'w1',
      });
      expect(fresh.commands.find((c) => c.commandId === next.command.commandId)?.status).toBe('PENDING');
    });

    it('leaves a finished command finished, as the general append does', async () => {
      const { store } = get();
      const s = await startExecution(store);
      await store.events.append({ events: workerEvents(s, ['command.completed']) });
      const batch: AppendBatch = {
        events: [
          ...workerEvents(s, ['command.started'], { idempotencyKey: 'late-start', createdAt: at(50) }),
          event(s.executionId, 'step.exit', { createdAt: at(52) }),
        ],
      };
      const { general, fresh } = await bothWays(store, s.executionId, batch);
      expect(fresh).toEqual(general);
      expect(fresh.commands.find((c) => c.commandId === s.commandId)?.status).toBe('COMPLETED');
    });

    it('moves no command for events about an unknown one, or about two at once', async () => {
      const { store } = get();
      const s = await startExecution(store);
      const ghost = [
        event(s.executionId, 'call.done', { commandKey: `${s.executionId}:ghost:1`, createdAt: at(51) }),
      ];
      const one = await bothWays(store, s.executionId, { events: ghost });
      expect(one.fresh).toEqual(one.general);
      expect(one.fresh.commands.find((c) => c.commandId === s.commandId)?.status).toBe('PENDING');
      const two = await bothWays(store, s.executionId, {
        events: [
          ...workerEvents(s, ['command.started']),
          event(s.executionId, 'call.done', { commandKey: `${s.executionId}:ghost:2`, createdAt: at(53) }),
        ],
      });
      expect(two.fresh).toEqual(two.general);
      expect(two.fresh.commands.find((c) => c.commandId === s.commandId)?.status).toBe('RUNNING');
    });

    it('writes nothing when an event of the batch was stored already', async () => {
      const { store } = get();
      const s = await startExecution(store);
      await store.events.append({ events: workerEvents(s, ['command.started']) });
      const next = nextStep(s, 'step2');
      const repeat = workerEvents(s, ['command.started', 'command.completed']);
      const refused = new Error('the batch repeats stored events');
      for (const last of [false, true]) {
        await expect(
          store.withExecutionLock(s.executionId, async (tx) => {
            const r = await tx.events.append({
              events: [...repeat, ...next.events],
              commands: [next.command],
              fresh: true,
              ...(last ? { last } : {}),
            });
            // Some stores report the new events as written (the general append); the caller
            // fails the transaction either way.
            expect(r.events.some((e) => !e.inserted)).toBe(true);
            throw refused;
          }),
        ).rejects.toBe(refused);
        const rows = await store.tx((tx) => rowsOf(tx, s.executionId));
        expect(rows.execution?.eventCount).toBe(4);
        expect(rows.commands.map((c) => c.status)).toEqual(['RUNNING']);
        expect(rows.events.map((e) => e.eventType)).not.toContain('command.completed');
      }
      // the store is fine afterwards
      const ok = await store.withExecutionLock(s.executionId, (tx) =>
        tx.events.append({ events: workerEvents(s, ['command.completed']), fresh: true }),
      );
      expect(ok.events[0]?.inserted).toBe(true);
      expect((await store.commands.get(s.commandId))?.status).toBe('COMPLETED');
    });
  });
}
