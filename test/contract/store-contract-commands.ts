import { describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError } from '../../src/shared/index.js';
import { command, event, ids, settle, startExecution, type StoreFixture } from './store-fixtures.js';

/** `o` without `keys`. */
function omit<T extends object>(o: T, keys: readonly (keyof T)[]): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([k]) => !keys.includes(k as keyof T))) as Partial<T>;
}

export function commandContract(get: () => StoreFixture): void {
  describe('commands and claims', () => {
    it('stores the command row of an issued command', async () => {
      const { store } = get();
      const s = await startExecution(store);
      const c = await store.commands.get(s.commandId);
      expect(c).toMatchObject({
        commandId: s.commandId,
        eventId: s.commandId,
        commandKey: s.commandKey,
        executionId: s.executionId,
        stepName: 'step1',
        toolKind: 'python',
        status: 'PENDING',
        attempt: 1,
        workerId: null,
        publishedAt: null,
        context: { tool_config: { code: 'x = 1' }, args: { a: 1 }, render_context: {} },
      });
      expect((await store.commands.getByKey(s.commandKey))?.commandId).toBe(s.commandId);
      expect((await store.commands.listByExecution(s.executionId)).map((x) => x.commandId)).toEqual([
        s.commandId,
      ]);
      // a repeated execute does not duplicate the row
      const again = await store.events.append({
        events: [],
        commands: [command(s.executionId, s.commandId)],
      });
      expect(again.commandsInserted).toBe(0);
    });

    it('claims once; the holder may repeat, another worker gets a conflict', async () => {
      const { store } = get();
      const s = await startExecution(store);
      const first = await store.commands.claim(s.commandId, 'w1');
      expect(first.alreadyClaimed).toBe(false);
      expect(first.command).toMatchObject({ status: 'CLAIMED', workerId: 'w1' });
      expect(first.command.claimedAt).not.toBeNull();
      const claimed = await store.events.list(s.executionId, { types: ['command.claimed'] });
      expect(claimed).toHaveLength(1);
      expect(claimed[0]).toMatchObject({
        eventId: first.claimEventId,
        nodeName: 'step1',
        nodeType: 'python',
        workerId: 'w1',
        parentEventId: s.commandId,
        result: { status: 'RUNNING', context: { command_id: s.commandKey, worker_id: 'w1' } },
        meta: { command_id: s.commandKey, worker_id: 'w1', actionable: false },
      });
      const repeat = await store.commands.claim(s.commandId, 'w1');
      expect(repeat).toMatchObject({ alreadyClaimed: true, claimEventId: first.claimEventId });
      const other = store.commands.claim(s.commandId, 'w2');
      await expect(other).rejects.toBeInstanceOf(ConflictError);
      await expect(store.commands.claim(s.commandId, 'w2')).rejects.toThrow('Command already claimed by w1');
      expect(await store.events.list(s.executionId, { types: ['command.claimed'] })).toHaveLength(1);
      await expect(store.commands.claim(ids.next(), 'w1')).rejects.toBeInstanceOf(NotFoundError);
    });

    it('refuses to claim a finished command, and a second completion is a no-op', async () => {
      const { store } = get();
      const s = await startExecution(store);
      await store.commands.claim(s.commandId, 'w1');
      const meta = { command_id: s.commandKey };
      await store.events.append({
        events: [event(s.executionId, 'command.started', { meta, workerId: 'w1' })],
      });
      expect((await store.commands.get(s.commandId))?.status).toBe('RUNNING');
      const done = await store.events.append({
        events: [event(s.executionId, 'command.completed', { meta })],
      });
      expect(done.events[0]?.inserted).toBe(true);
      const c = await store.commands.get(s.commandId);
      expect(c?.status).toBe('COMPLETED');
      expect(c?.startedAt).not.toBeNull();
      expect(c?.completedAt).not.toBeNull();
      await expect(store.commands.claim(s.commandId, 'w1')).rejects.toBeInstanceOf(ConflictError);
      await expect(store.commands.claim(s.commandId, 'w9')).rejects.toBeInstanceOf(ConflictError);
      const late = event(s.executionId, 'command.failed', { context: { command_id: s.commandKey } });
      const dup = await store.events.append({ events: [late] });
      expect(dup.events[0]).toEqual({ eventId: done.events[0]?.eventId, inserted: false });
      expect((await store.commands.get(s.commandId))?.status).toBe('COMPLETED');
    });

    it('folds a whole worker batch and its decision in one append, as if written one by one', async () => {
      const { store } = get();
      const s = await startExecution(store);
      const claimed = await store.commands.claim(s.commandId, 'w1');
      expect(claimed.executionEventCount).toBe(4);
      const meta = { command_id: s.commandKey };
      const started = event(s.executionId, 'command.started', { meta, workerId: 'w1', idempotencyKey: 'st' });
      const again = { ...started, eventId: ids.next() }; // same idempotency key: not inserted
      const done = [
        event(s.executionId, 'call.done', { meta }),
        event(s.executionId, 'command.completed', { meta }),
      ];
      const exit = event(s.executionId, 'step.exit');
      const next = command(s.executionId, ids.next(), 'step2'); // the newest id
      const issued = {
        ...event(s.executionId, 'command.issued', { nodeName: 'step2' }),
        eventId: next.commandId,
      };
      const r = await store.events.append({
        events: [started, again, ...done, exit, issued],
        commands: [next],
      });
      expect(r.commandsInserted).toBe(1);
      expect(r.events.map((e) => e.inserted)).toEqual([true, false, true, true, true, true]);
      expect(r.events[1]?.eventId).toBe(started.eventId);
      const c = await store.commands.get(s.commandId);
      expect(c).toMatchObject({ status: 'COMPLETED', workerId: 'w1' });
      expect(c?.startedAt).not.toBeNull();
      expect(c?.completedAt).not.toBeNull();
      expect((await store.commands.get(next.commandId))?.status).toBe('PENDING');
      const x = await store.executions.get(s.executionId);
      expect(x?.eventCount).toBe(9);
      expect(x?.lastEventType).toBe('command.issued');
      await store.withExecutionLock(s.executionId, (_tx, head) => {
        expect(head).toEqual({ eventCount: 9, lastEventId: next.commandId });
        return Promise.resolve();
      });
    });

    it('writes a command of the batch already claimed, as a claim after it would leave it', async () => {
      const { store } = get();
      // Two executions at the same point: one takes its next command with the append, the other
      // claims it after the append, through the claim statement.
      const step = async (claimWith: boolean) => {
        const s = await startExecution(store);
        await store.commands.claim(s.commandId, 'w1');
        const meta = { command_id: s.commandKey };
        const completed = event(s.executionId, 'command.completed', { meta });
        const next = command(s.executionId, ids.next(), 'step2');
        const issued = {
          ...event(s.executionId, 'command.issued', { nodeName: 'step2' }),
          eventId: next.commandId,
        };
        const claimEventId = ids.next();
        const r = await store.events.append({
          events: [completed, issued],
          commands: [next],
          ...(claimWith
            ? { claims: [{ commandId: next.commandId, workerId: 'w2', eventId: claimEventId }] }
            : {}),
        });
        expect(r.events.map((e) => e.inserted)).toEqual([true, true]);
        const claim = claimWith ? r.claimed?.[0] : await store.commands.claim(next.commandId, 'w2');
        return { s, next, r, claim: claim!, claimEventId };
      };
      const a = await step(true);
      const b = await step(false);
      expect(a.r.claimed).toHaveLength(1);
      expect(b.r.claimed).toBeUndefined();
      expect(a.claim).toMatchObject({ claimEventId: a.claimEventId, alreadyClaimed: false });
      const row = await store.commands.get(a.next.commandId);
      expect(row).toMatchObject({ status: 'CLAIMED', workerId: 'w2', latestEventId: a.claimEventId });
      // The answer is the row as stored, as the claim statement answers with the row it wrote.
      const { context: answered, ...answer } = a.claim.command;
      const { context: stored, ...rest } = row!;
      expect(answer).toEqual(rest);
      expect(answered).toEqual(stored);
      // Row, claim event and projection alike, but for ids and times.
      const ROW_IDS = ['commandId', 'commandKey', 'eventId', 'executionId', 'latestEventId'] as const;
      const TIMES = ['claimedAt', 'createdAt', 'updatedAt'] as const;
      const rowB = await store.commands.get(b.next.commandId);
      expect(omit(row!, [...ROW_IDS, ...TIMES])).toEqual(omit(rowB!, [...ROW_IDS, ...TIMES]));
      const claimEvent = async (x: typeof a) => {
        const [e] = await store.events.list(x.s.executionId, {
          types: ['command.claimed'],
          afterEventId: x.next.commandId,
        });
        expect(e).toMatchObject({
          eventId: x.claim.claimEventId,
          parentEventId: x.next.commandId,
          commandKey: x.next.commandKey,
        });
        return {
          ...omit(e!, ['executionId', 'eventId', 'parentEventId', 'createdAt', 'commandKey', 'catalogId']),
          result: { ...e!.result, context: {} },
          meta: { ...e!.meta, command_id: '' },
        };
      };
      expect(await claimEvent(a)).toEqual(await claimEvent(b));
      const projection = async (x: typeof a) => {
        const p = (await store.executions.get(x.s.executionId))!;
        return {
          ...omit(p, ['executionId', 'startTime', 'updatedAt', 'lastEventId', 'catalogId']),
          lastEventIsClaim: p.lastEventId === x.claim.claimEventId,
        };
      };
      expect(await projection(a)).toEqual(await projection(b));
      expect((await projection(a)).lastEventIsClaim).toBe(true);
      // The claim gate holds for it as for any claimed command.
      await expect(store.commands.claim(a.next.commandId, 'w3')).rejects.toBeInstanceOf(ConflictError);
      expect(await store.commands.claim(a.next.commandId, 'w2')).toMatchObject({
        alreadyClaimed: true,
        claimEventId: a.claimEventId,
      });
    });

    it('writes neither a claimed command nor its claim event when either was already stored', async () => {
      const { store } = get();
      const s = await startExecution(store);
      const before = (await store.executions.get(s.executionId))!.eventCount;
      // the command row is there already (the execute wrote it): its claim event must not stay
      await expect(
        store.events.append({
          events: [],
          commands: [command(s.executionId, s.commandId)],
          claims: [{ commandId: s.commandId, workerId: 'w1', eventId: ids.next() }],
        }),
      ).rejects.toThrow();
      // the claim event's id is taken: the command must not stay claimed
      const next = command(s.executionId, ids.next(), 'step2');
      await expect(
        store.events.append({
          events: [],
          commands: [next],
          claims: [{ commandId: next.commandId, workerId: 'w1', eventId: s.commandId }],
        }),
      ).rejects.toThrow();
      expect(await store.commands.get(next.commandId)).toBeUndefined();
      expect(await store.events.list(s.executionId, { types: ['command.claimed'] })).toEqual([]);
      expect((await store.commands.get(s.commandId))?.status).toBe('PENDING');
      expect((await store.executions.get(s.executionId))!.eventCount).toBe(before);
    });

    it('a terminal event in a batch cancels the unfinished commands it does not finish', async () => {
      const { store } = get();
      const s = await startExecution(store);
      const other = command(s.executionId, ids.next(), 'step2');
      await store.events.append({ events: [], commands: [other] });
      const meta = { command_id: s.commandKey };
      await store.events.append({
        events: [
          event(s.executionId, 'command.failed', { meta, error: 'boom' }),
          event(s.executionId, 'playbook.failed', { nodeName: 'playbook', error: 'Failed steps: step1' }),
        ],
      });
      expect(await store.commands.get(s.commandId)).toMatchObject({ status: 'FAILED', error: 'boom' });
      expect((await store.commands.get(other.commandId))?.status).toBe('CANCELLED');
      expect(await store.executions.get(s.executionId)).toMatchObject({
        status: 'FAILED',
        error: 'Failed steps: step1',
      });
    });

    it('refuses to claim a command of a cancelled execution', async () => {
      const { store } = get();
      const s = await startExecution(store);
      await store.events.append({
        events: [event(s.executionId, 'playbook_cancelled', { nodeName: 'playbook' })],
      });
      expect((await store.executions.get(s.executionId))?.status).toBe('CANCELLED');
      expect((await store.commands.get(s.commandId))?.status).toBe('CANCELLED');
      await expect(store.commands.claim(s.commandId, 'w1')).rejects.toMatchObject({
        code: 'CONFLICT',
        details: { reason: 'execution_cancelled' },
      });
    });

    it('lets exactly one of many concurrent claimers win', async () => {
      const { store, peer } = get();
      for (let round = 0; round < 3; round++) {
        const s = await startExecution(store);
        const claims = Array.from({ length: 16 }, (_, i) =>
          (i % 2 === 1 && peer ? peer : store).commands.claim(s.commandId, `w${i}`),
        );
        const { ok, errors } = await settle(claims);
        expect(ok).toHaveLength(1);
        expect(errors).toHaveLength(15);
        for (const e of errors) expect(e).toBeInstanceOf(ConflictError);
        expect(await store.events.list(s.executionId, { types: ['command.claimed'] })).toHaveLength(1);
        expect((await store.commands.get(s.commandId))?.workerId).toBe(ok[0]?.command.workerId);
      }
    });

    it('sweeps unpublished and unclaimed commands (outbox)', async () => {
      const { store } = get();
      const a = await startExecution(store);
      const b = await startExecution(store);
      const unpublished = async () =>
        (await store.commands.listUnpublished({ olderThanMs: 0 })).map((c) => c.commandId);
      expect(await unpublished()).toEqual(expect.arrayContaining([a.commandId, b.commandId]));
      const fresh = await store.commands.listUnpublished({ olderThanMs: 60_000 });
      expect(fresh.map((c) => c.commandId)).not.toContain(a.commandId);
      expect(await store.commands.markPublished([a.commandId])).toBe(1);
      expect(await unpublished()).not.toContain(a.commandId);
      expect(await unpublished()).toContain(b.commandId);
      expect((await store.commands.get(a.commandId))?.publishedAt).not.toBeNull();
      const unclaimed = async () =>
        (await store.commands.listUnclaimed({ olderThanMs: 0 })).map((c) => c.commandId);
      expect(await unclaimed()).toContain(a.commandId);
      await store.commands.claim(a.commandId, 'w1');
      expect(await unclaimed()).not.toContain(a.commandId);
      expect(await store.commands.markPublished([])).toBe(0);
      const limited = await store.commands.listUnpublished({ olderThanMs: 0, limit: 1 });
      expect(limited).toHaveLength(1);
    });

    it('finds stale and per-worker claims and releases them for a new claim', async () => {
      const { store } = get();
      const s = await startExecution(store);
      await store.commands.claim(s.commandId, 'w-stale');
      const schema = store.stats().schema;
      expect((await store.commands.listStale({ olderThanMs: 60_000 })).map((c) => c.commandId)).not.toContain(
        s.commandId,
      );
      await store.query(
        `UPDATE ${schema}.command SET updated_at = now() - interval '10 minutes' WHERE command_id = $1`,
        [s.commandId],
      );
      expect((await store.commands.listStale({ olderThanMs: 60_000 })).map((c) => c.commandId)).toContain(
        s.commandId,
      );
      expect((await store.commands.listClaimedBy(['w-stale', 'nobody'])).map((c) => c.commandId)).toEqual([
        s.commandId,
      ]);
      expect(await store.commands.listClaimedBy([])).toEqual([]);
      // any event about the command counts as activity
      await store.events.append({
        events: [event(s.executionId, 'command.heartbeat', { meta: { command_id: s.commandKey } })],
      });
      expect((await store.commands.listStale({ olderThanMs: 60_000 })).map((c) => c.commandId)).not.toContain(
        s.commandId,
      );
      expect(await store.commands.release(s.commandId, 'someone-else')).toBe(false);
      expect(await store.commands.release(s.commandId, 'w-stale')).toBe(true);
      expect(await store.commands.release(s.commandId)).toBe(false);
      const released = await store.commands.get(s.commandId);
      expect(released).toMatchObject({ status: 'PENDING', workerId: null, attempt: 2, publishedAt: null });
      expect((await store.commands.listUnpublished({ olderThanMs: 0 })).map((c) => c.commandId)).toContain(
        s.commandId,
      );
      const again = await store.commands.claim(s.commandId, 'w-new');
      expect(again.command).toMatchObject({ workerId: 'w-new', attempt: 2 });
      await expect(store.commands.claim(s.commandId, 'w-stale')).rejects.toBeInstanceOf(ConflictError);
    });
  });
}
