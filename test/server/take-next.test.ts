/**
 * A worker's command end that asks to `take` what it decides (issue 17): the next command is
 * claimed for that worker in the ingest's transaction, through the store's claim statement, and
 * is not published; what it does not take is published as before. Both stores.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Orchestrator } from '../../src/server/orchestrator/orchestrator.js';
import { orchestrationRoutes } from '../../src/server/routes/orchestration.js';
import { ConflictError, SnowflakeIdGenerator, systemClock } from '../../src/shared/index.js';
import { openStore, type Store } from '../../src/store/index.js';
import { migratedPgliteDataDir } from '../helpers/pglite-template.js';
import {
  pgliteBackend,
  startTestServer,
  TEST_DATABASE_URL,
  type TestBackend,
} from '../helpers/server-app.js';
import { RecordingBus } from '../helpers/recording-bus.js';
import { testOrchestrator } from '../helpers/orchestrator.js';

/**
 * A store sharing the orchestrator's id generator, as the server's does: claim events then
 * come after the decision that issued their command, in id order too.
 */
interface Backend {
  readonly store: Store;
  readonly ids: SnowflakeIdGenerator;
  dispose(): Promise<void>;
}

async function postgres(): Promise<Backend> {
  const ids = new SnowflakeIdGenerator(systemClock);
  const schema = `noetl_take_${randomBytes(5).toString('hex')}`;
  const store = await openStore({ databaseUrl: TEST_DATABASE_URL, schema, ids });
  return {
    store,
    ids,
    dispose: async () => {
      await store.tx((tx) => tx.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`));
      await store.close();
    },
  };
}

async function pglite(): Promise<Backend> {
  const ids = new SnowflakeIdGenerator(systemClock);
  const home = await mkdtemp(join(tmpdir(), 'noetl-take-'));
  await migratedPgliteDataDir(join(home, 'data'));
  const store = await openStore({ dataDir: join(home, 'data'), ids });
  return {
    store,
    ids,
    dispose: async () => {
      await store.close();
      await rm(home, { recursive: true, force: true });
    },
  };
}

const CHAIN = (path: string): string => `apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: take, path: ${path} }
workflow:
  - step: start
    tool: { kind: noop }
    next: [ b ]
  - step: b
    tool: { kind: noop }
    next: [ c ]
  - step: c
    tool: { kind: noop }
`;

const CHAIN7 = (path: string): string =>
  [
    `apiVersion: noetl.io/v2\nkind: Playbook\nmetadata: { name: take7, path: ${path} }\nworkflow:`,
    ...['start', 's1', 's2', 's3', 's4', 's5', 's6'].map(
      (step, i, all) =>
        `  - step: ${step}\n    tool: { kind: noop }${all[i + 1] ? `\n    next: [ ${all[i + 1]} ]` : ''}`,
    ),
  ].join('\n') + '\n';

const FAN = (path: string): string => `apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: fan, path: ${path} }
workflow:
  - step: start
    tool: { kind: noop }
    next: { spec: { mode: inclusive }, arcs: [ { step: x }, { step: y }, { step: z } ] }
  - step: x
    tool: { kind: noop }
  - step: y
    tool: { kind: noop }
  - step: z
    tool: { kind: noop }
`;

/** What a worker posts at the end of a quick no-op command. */
function ending(executionId: string, step: string, commandId: string, workerId: string) {
  const event = (event_type: string, payload: Record<string, unknown>) => ({
    execution_id: executionId,
    step,
    event_type,
    payload: { command_id: commandId, ...payload },
    worker_id: workerId,
  });
  return [
    event('command.started', {}),
    event('call.done', { call_index: 0, result: { status: 'success', context: { status: 'success' } } }),
    event('command.completed', { status: 'COMPLETED' }),
  ];
}

describe.each([
  ['postgres', postgres],
  ['pglite', pglite],
] as const)('taking the next command on %s', (_name, open) => {
  let backend: Backend;
  let bus: RecordingBus;
  let orchestrator: Orchestrator;
  const tag = randomBytes(3).toString('hex');

  beforeAll(async () => {
    backend = await open();
    for (const [name, content] of [
      ['chain', CHAIN],
      ['chain7', CHAIN7],
      ['fan', FAN],
    ] as const) {
      await backend.store.catalog.register({
        path: `t/${tag}/${name}`,
        kind: 'Playbook',
        content: content(`t/${tag}/${name}`),
      });
    }
  }, 60_000);

  // A fresh orchestrator (and queue) per test: commands one test leaves waiting are not the next
  // test's queue.
  beforeEach(() => {
    bus = new RecordingBus();
    orchestrator = testOrchestrator(backend.store, bus, backend.ids);
  });

  afterEach(async () => {
    await orchestrator?.flushPublished();
  });

  afterAll(async () => {
    await backend?.dispose();
  });

  const publishedFor = (executionId: string) => bus.published.filter((n) => n.execution_id === executionId);

  it('claims the next step for the worker that ended the last, and publishes nothing for it', async () => {
    const { execution_id: id } = await orchestrator.execute({ path: `t/${tag}/chain` });
    const [first] = publishedFor(id);
    expect(first?.step).toBe('start');
    const claimed = await orchestrator.claim(first!.event_id, 'w1');
    let next = await orchestrator.ingest(id, ending(id, 'start', claimed.command.commandKey, 'w1'), {
      workerId: 'w1',
      max: 1,
    });
    expect(next.commands_generated).toBe(1);
    expect(next.claimed).toHaveLength(1);
    const b = next.claimed![0]!.claim;
    expect(b.command).toMatchObject({ stepName: 'b', status: 'CLAIMED', workerId: 'w1' });
    expect(next.claimed![0]!.executionPool).toBe('shared');
    // Claimed: the gate refuses anyone else, and the holder's repeat is idempotent.
    await expect(orchestrator.claim(b.command.commandId, 'w2')).rejects.toBeInstanceOf(ConflictError);
    expect((await orchestrator.claim(b.command.commandId, 'w1')).alreadyClaimed).toBe(true);

    next = await orchestrator.ingest(id, ending(id, 'b', b.command.commandKey, 'w1'), {
      workerId: 'w1',
      max: 1,
    });
    const c = next.claimed![0]!.claim;
    expect(c.command.stepName).toBe('c');
    next = await orchestrator.ingest(id, ending(id, 'c', c.command.commandKey, 'w1'), {
      workerId: 'w1',
      max: 1,
    });
    expect(next.claimed).toBeUndefined(); // the playbook is done: nothing to take

    expect(publishedFor(id).map((n) => n.step)).toEqual(['start']);
    const events = await backend.store.events.list(id);
    const count = (type: string) => events.filter((e) => e.eventType === type).length;
    expect([count('command.issued'), count('command.claimed'), count('command.completed')]).toEqual([
      3, 3, 3,
    ]);
    expect(events.filter((e) => e.eventType === 'command.claimed').map((e) => e.workerId)).toEqual([
      'w1',
      'w1',
      'w1',
    ]);
    expect((await backend.store.executions.overview(id))?.status).toBe('COMPLETED');
    // The cached state folded the claims it made: a state rebuilt from the log agrees.
    const cached = orchestrator.live.peek(id)!.state;
    orchestrator.live.forget(id);
    const rebuilt = await backend.store.tx((tx) => orchestrator.live.require(tx, id));
    expect(rebuilt.state.status).toBe(cached.status);
    expect([...rebuilt.state.steps.keys()]).toEqual([...cached.steps.keys()]);
  });

  it('while commands of its pool wait, hands over the oldest and queues its own (first in, first out)', async () => {
    const take = { workerId: 'w1', max: 1 };
    const other = await orchestrator.execute({ path: `t/${tag}/chain` }); // its start waits
    const { execution_id: id } = await orchestrator.execute({ path: `t/${tag}/chain7` });
    const first = await orchestrator.claim(publishedFor(id)[0]!.event_id, 'w1');
    const r1 = await orchestrator.ingest(id, ending(id, 'start', first.command.commandKey, 'w1'), take);
    const otherStart = r1.claimed?.[0]?.claim.command;
    expect(otherStart).toMatchObject({
      executionId: other.execution_id,
      stepName: 'start',
      status: 'CLAIMED',
      workerId: 'w1',
    });
    expect(publishedFor(id).map((n) => n.step)).toEqual(['start', 's1']); // queued behind it
    // The handed-over command's notification leaves the bus: no worker fetches it for nothing.
    expect(bus.withdrawn.map((n) => n.event_id)).toEqual([otherStart!.commandId]);

    // The other's start ends: the oldest waiting is now this chain's s1.
    const r2 = await orchestrator.ingest(
      other.execution_id,
      ending(other.execution_id, 'start', otherStart!.commandKey, 'w1'),
      take,
    );
    const s1 = r2.claimed?.[0]?.claim.command;
    expect(s1).toMatchObject({ executionId: id, stepName: 's1', workerId: 'w1' });
    expect(publishedFor(other.execution_id).map((n) => n.step)).toEqual(['start', 'b']);

    // Once nothing waits, an end hands over its own next command.
    await orchestrator.claim(publishedFor(other.execution_id)[1]!.event_id, 'w2');
    const r3 = await orchestrator.ingest(id, ending(id, 's1', s1!.commandKey, 'w1'), take);
    expect(r3.claimed?.[0]?.claim.command).toMatchObject({ executionId: id, stepName: 's2' });
    expect(publishedFor(id).map((n) => n.step)).toEqual(['start', 's1']);

    // Every command was claimed once, and each cached state agrees with its log.
    for (const x of [id, other.execution_id]) {
      const log = await backend.store.events.list(x);
      const claims = log.filter((e) => e.eventType === 'command.claimed').map((e) => e.commandKey);
      expect(new Set(claims).size).toBe(claims.length);
      const cached = orchestrator.live.peek(x)!.state;
      orchestrator.live.forget(x);
      const rebuilt = await backend.store.tx((tx) => orchestrator.live.require(tx, x));
      expect(JSON.stringify([...rebuilt.state.steps])).toBe(JSON.stringify([...cached.steps]));
    }
  });

  it('hands two ends at once two different queued commands, and withdraws both notifications', async () => {
    const take = { workerId: 'w1', max: 1 };
    const waiting = [
      await orchestrator.execute({ path: `t/${tag}/chain` }),
      await orchestrator.execute({ path: `t/${tag}/chain` }),
    ];
    const running = [
      await orchestrator.execute({ path: `t/${tag}/chain` }),
      await orchestrator.execute({ path: `t/${tag}/chain` }),
    ];
    const claims: Awaited<ReturnType<Orchestrator['claim']>>[] = [];
    for (const r of running)
      claims.push(await orchestrator.claim(publishedFor(r.execution_id)[0]!.event_id, 'w1'));
    const answers = await Promise.all(
      running.map((r, i) =>
        orchestrator.ingest(
          r.execution_id,
          ending(r.execution_id, 'start', claims[i]!.command.commandKey, 'w1'),
          take,
        ),
      ),
    );
    const handed = answers.map((a) => a.claimed?.[0]?.claim.command.executionId).sort();
    expect(handed).toEqual(waiting.map((w) => w.execution_id).sort());
    const starts = waiting.map((w) => publishedFor(w.execution_id)[0]!.event_id).sort();
    expect(bus.withdrawn.map((n) => n.event_id).sort()).toEqual(starts);
  });

  it('skips a queued command the gate refuses (claimed through another replica) and takes its own', async () => {
    const other = await orchestrator.execute({ path: `t/${tag}/chain` });
    const { execution_id: id } = await orchestrator.execute({ path: `t/${tag}/chain` });
    // claimed behind this orchestrator's back: its queue still lists it
    await backend.store.commands.claim(publishedFor(other.execution_id)[0]!.event_id, 'w9');
    const first = await orchestrator.claim(publishedFor(id)[0]!.event_id, 'w1');
    const r = await orchestrator.ingest(id, ending(id, 'start', first.command.commandKey, 'w1'), {
      workerId: 'w1',
      max: 1,
    });
    expect(r.claimed?.[0]?.claim.command).toMatchObject({ executionId: id, stepName: 'b', workerId: 'w1' });
    expect(bus.withdrawn).toEqual([]);
  });

  it('takes at most max of a fan-out and publishes the rest', async () => {
    const { execution_id: id } = await orchestrator.execute({ path: `t/${tag}/fan` });
    const [first] = publishedFor(id);
    const claimed = await orchestrator.claim(first!.event_id, 'w1');
    const r = await orchestrator.ingest(id, ending(id, 'start', claimed.command.commandKey, 'w1'), {
      workerId: 'w1',
      max: 1,
    });
    expect(r.commands_generated).toBe(3);
    expect(r.claimed).toHaveLength(1);
    const taken = r.claimed![0]!.claim.command.stepName;
    const published = publishedFor(id)
      .slice(1)
      .map((n) => n.step);
    expect([taken, ...published].sort()).toEqual(['x', 'y', 'z']);
    expect(published).not.toContain(taken);
  });

  it("takes nothing of another pool's commands", async () => {
    const { execution_id: id } = await orchestrator.execute({ path: `t/${tag}/chain` });
    const [first] = publishedFor(id);
    const claimed = await orchestrator.claim(first!.event_id, 'w1');
    const r = await orchestrator.ingest(id, ending(id, 'start', claimed.command.commandKey, 'w1'), {
      workerId: 'w1',
      pool: 'gpu',
      max: 1,
    });
    expect(r.claimed).toBeUndefined();
    expect(publishedFor(id).map((n) => n.step)).toEqual(['start', 'b']);
  });

  it('takes nothing on a repeated post (its events are already there)', async () => {
    const { execution_id: id } = await orchestrator.execute({ path: `t/${tag}/chain` });
    const [first] = publishedFor(id);
    const claimed = await orchestrator.claim(first!.event_id, 'w1');
    const events = ending(id, 'start', claimed.command.commandKey, 'w1');
    const once = await orchestrator.ingest(id, events, { workerId: 'w1', max: 1 });
    expect(once.claimed).toHaveLength(1);
    const again = await orchestrator.ingest(id, events, { workerId: 'w1', max: 1 });
    expect(again.duplicates).toBe(3);
    expect(again.claimed).toBeUndefined();
    const log = await backend.store.events.list(id);
    expect(log.filter((e) => e.eventType === 'command.claimed')).toHaveLength(2);
  });
});

describe('POST /api/events/batch with take', () => {
  let backend: TestBackend;
  let close: () => Promise<void>;
  let inject: (body: unknown) => Promise<{ statusCode: number; json(): Record<string, unknown> }>;

  beforeAll(async () => {
    backend = await pgliteBackend();
    const bus = new RecordingBus();
    const orchestrator = testOrchestrator(backend.store, bus);
    const server = await startTestServer(backend, {
      plugins: [orchestrationRoutes({ orchestrator, store: backend.store })],
    });
    close = () => server.close();
    inject = (body) =>
      server.app.inject({ method: 'POST', url: '/api/events/batch', payload: body as object });
    await backend.store.catalog.register({
      path: 't/route/chain',
      kind: 'Playbook',
      content: CHAIN('t/route/chain'),
    });
    const started = await orchestrator.execute({ path: 't/route/chain' });
    const first = bus.published.find((n) => n.execution_id === started.execution_id)!;
    const claimed = await orchestrator.claim(first.event_id, 'w1');
    executionId = started.execution_id;
    commandKey = claimed.command.commandKey;
  }, 60_000);
  let executionId = '';
  let commandKey = '';

  afterAll(async () => {
    await close?.();
    await backend?.dispose();
  });

  it('refuses take without a worker_id, and bad take values', async () => {
    const events = ending(executionId, 'start', commandKey, 'w1').map(({ execution_id: _, ...e }) => e);
    expect((await inject({ execution_id: executionId, events, take: { max: 1 } })).statusCode).toBe(400);
    for (const take of [{ max: -1 }, { max: 65 }, { max: 'one' }, { pool: 'x' }]) {
      expect((await inject({ execution_id: executionId, worker_id: 'w1', events, take })).statusCode).toBe(
        400,
      );
    }
  });

  it('answers the claimed command as the claim route does, with its pool', async () => {
    const events = ending(executionId, 'start', commandKey, 'w1').map(({ execution_id: _, ...e }) => e);
    const res = await inject({ execution_id: executionId, worker_id: 'w1', events, take: { max: 1 } });
    expect(res.statusCode).toBe(200);
    const body = res.json() as { claimed: Record<string, unknown>[]; commands_generated: number };
    expect(body.commands_generated).toBe(1);
    expect(body.claimed).toHaveLength(1);
    expect(body.claimed[0]).toMatchObject({
      status: 'ok',
      execution_id: executionId,
      node_name: 'b',
      action: 'noop',
      execution_pool: 'shared',
    });
    expect(body.claimed[0]!['claim_event_id']).toMatch(/^[0-9]+$/);
    expect((body.claimed[0]!['context'] as Record<string, unknown>)['tool_config']).toBeDefined();
  });
});
