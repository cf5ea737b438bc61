/**
 * A parallel loop with many items and no `max_in_flight` (issue 10, item 11): the server issues
 * the default number of iterations at a time, not all of them, answers health while the loop
 * runs, and completes it, the workload stored once; on the embedded store and on PostgreSQL.
 * Speed is measured by bench/loop.mjs, not here.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { startTestServer, type RunningServer } from '../helpers/embedded-server.js';
import { PG_URL, scratchName, withPg } from '../helpers/pg-scratch.js';

const ITEMS = 300;
/** The engine's default (src/engine/loop-items.ts, docs/dsl.md). */
const DEFAULT_MAX_IN_FLIGHT = 100;

const PLAYBOOK = `apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: big_loop, path: tests/loop/big }
workload: { items: [] }
workflow:
  - step: start
    loop:
      in: "{{ workload.items }}"
      iterator: item
      spec: { mode: parallel }
    tool: { kind: noop }
`;

const schemas: string[] = [];
afterAll(async () => {
  for (const schema of schemas) {
    await withPg((c) => c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`));
  }
});

interface EventView {
  event_id: string;
  event_type: string;
  context?: Record<string, unknown> | null;
}

/** Every event of an execution of the given types, in log order. */
async function eventsOf(server: RunningServer, id: string, types: string): Promise<EventView[]> {
  const all: EventView[] = [];
  let after = '';
  for (;;) {
    const page = await server.get<{ events: EventView[] }>(
      `/api/executions/${id}/events?types=${types}&limit=1000${after ? `&after=${after}` : ''}`,
    );
    expect(page.status).toBe(200);
    all.push(...page.body.events);
    if (page.body.events.length < 1000) return all;
    after = page.body.events[page.body.events.length - 1]!.event_id;
  }
}

async function runBigLoop(server: RunningServer, schema = 'noetl'): Promise<void> {
  await server.register(PLAYBOOK);
  const items = Array.from({ length: ITEMS }, (_, i) => ({ id: i, name: `item-${i}` }));

  let running = true;
  const healthStatuses: number[] = [];
  const sampler = (async () => {
    while (running) {
      const r = await fetch(`${server.url}/api/health`);
      await r.arrayBuffer();
      healthStatuses.push(r.status);
      await new Promise((done) => setTimeout(done, 50));
    }
  })();
  let id = '';
  try {
    const started = await server.post<{ execution_id: string; commands_generated: number }>('/api/execute', {
      path: 'tests/loop/big',
      workload: { items },
    });
    expect(started.status).toBe(200);
    expect(started.body.commands_generated).toBe(DEFAULT_MAX_IN_FLIGHT);
    id = started.body.execution_id;
    const final = await server.waitFor(id, 240_000);
    expect(final['status']).toBe('COMPLETED');
  } finally {
    running = false;
    await sampler;
  }
  // Health answered all along (it shares the store with the loop).
  expect(healthStatuses.length).toBeGreaterThan(0);
  expect(healthStatuses.every((s) => s === 200)).toBe(true);

  // The log: never more than the default in flight, every iteration issued and completed once.
  const events = await eventsOf(server, id, 'step.enter,command.issued,command.completed');
  const enter = events.find((e) => e.event_type === 'step.enter');
  expect(enter?.context?.['max_in_flight']).toBe(DEFAULT_MAX_IN_FLIGHT);
  let inFlight = 0;
  let maxInFlight = 0;
  for (const e of events) {
    if (e.event_type === 'command.issued') inFlight++;
    else if (e.event_type === 'command.completed') inFlight--;
    maxInFlight = Math.max(maxInFlight, inFlight);
  }
  expect(maxInFlight).toBe(DEFAULT_MAX_IN_FLIGHT);
  expect(events.filter((e) => e.event_type === 'command.issued')).toHaveLength(ITEMS);
  expect(events.filter((e) => e.event_type === 'command.completed')).toHaveLength(ITEMS);

  // The workload is written once, in playbook_started; the execution's read route finds it there.
  const copies = await server.handle.store.query(
    `SELECT (SELECT count(*) FROM ${schema}.event WHERE execution_id = $1::bigint AND context ? 'workload')::int AS events,
       (SELECT count(workload) FROM ${schema}.execution WHERE execution_id = $1::bigint)::int AS rows`,
    [id],
  );
  expect(copies.rows).toEqual([{ events: 1, rows: 0 }]);
  const detail = await server.get<{ workload: unknown }>(`/api/executions/${id}?page_size=1`);
  expect(detail.status).toBe(200);
  expect(detail.body.workload).toEqual({ items });
}

describe('a parallel loop of many items without max_in_flight', () => {
  it('on the embedded store: bounded in flight, health answers, it completes', async () => {
    const server = await startTestServer({ NOETL_EMBEDDED_WORKERS: '8' });
    try {
      await runBigLoop(server);
    } finally {
      await server.stop();
    }
  }, 300_000);

  it('on PostgreSQL: bounded in flight, health answers, it completes', async () => {
    const schema = scratchName('big_loop');
    schemas.push(schema);
    const server = await startTestServer({
      NOETL_DATABASE_URL: PG_URL,
      NOETL_SCHEMA: schema,
      NOETL_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      NOETL_EMBEDDED_WORKERS: '8',
    });
    try {
      await runBigLoop(server, schema);
    } finally {
      await server.stop();
    }
  }, 300_000);
});
