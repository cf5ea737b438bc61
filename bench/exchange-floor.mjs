#!/usr/bin/env node
// The exchanges of a distributed chain step with nothing of ours around them (issue 17): what a
// step costs when all it does is one HTTP request from a worker process to a server process
// (node:http keep-alive client, fastify with a body schema, bodies the size of ours) and, inside
// it, one PostgreSQL transaction writing a step's rows (six event rows into a table with the
// event table's indexes, one command row inserted, one command and the execution row updated)
// in a single round trip, answered with the next command. No engine, no templates, no claim
// gate: a lower bound for `bench/distributed.mjs`'s chain step on the same machine, wall and CPU
// (server, client, the PostgreSQL backend), medians of runs.
//   node bench/exchange-floor.mjs [--runs 5] [--steps 400] [--nats]
// --nats adds a JetStream publish with its ack to each step (the floor bench/distributed.mjs
// measures beside its chain: a PG commit plus a publish-ack).
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { performance } from 'node:perf_hooks';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const RUNS = arg('--runs', 5);
const STEPS = arg('--steps', 400);
const NATS = process.argv.includes('--nats');
const DB_URL = process.env.NOETL_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const TICK_MS = 10; // USER_HZ 100

/** utime + stime of a process, in ms. */
function procCpuMs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * TICK_MS;
}

// A result the size of a no-op step's, and the worker's post around it.
const RESULT = { status: 'ok', data: { step: 'sN', value: 'x'.repeat(200), n: 1 } };

if (process.argv[2] === '--server') {
  const { default: Fastify } = await import('fastify');
  const { default: pg } = await import('pg');
  const schema = process.env.BENCH_SCHEMA;
  const client = new pg.Client({ connectionString: DB_URL });
  await client.connect();
  const backend = (await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
  let js;
  if (process.env.BENCH_NATS) {
    const { connect } = await import('@nats-io/transport-node');
    const { jetstream } = await import('@nats-io/jetstream');
    const nc = await connect({ servers: NATS_URL });
    js = jetstream(nc);
  }
  const app = Fastify({ logger: false });
  const eventSchema = {
    type: 'object',
    required: ['event_id', 'event_type'],
    properties: {
      event_id: { type: 'string' },
      event_type: { type: 'string' },
      node_name: { type: 'string' },
      status: { type: 'string' },
      result: {},
      meta: { type: 'object' },
    },
  };
  let seq = BigInt(Date.now()) * 1000n;
  const q = (s) => `'${s.replaceAll("'", "''")}'`;
  app.post(
    '/step',
    {
      schema: {
        body: {
          type: 'object',
          required: ['execution_id', 'command_id', 'events'],
          properties: {
            execution_id: { type: 'string' },
            command_id: { type: 'string' },
            worker_id: { type: 'string' },
            events: { type: 'array', items: eventSchema },
          },
        },
      },
    },
    async (req) => {
      const b = req.body;
      const exec = b.execution_id;
      const next = String(++seq);
      const rows = [
        ...b.events.map((e) => ({ ...e, execution_id: exec })),
        { event_id: String(++seq), event_type: 'step.exit', execution_id: exec, status: 'COMPLETED' },
        { event_id: String(++seq), event_type: 'step.enter', execution_id: exec, status: 'RUNNING' },
        { event_id: next, event_type: 'command.issued', execution_id: exec, status: 'PENDING' },
      ];
      // One round trip: the simple protocol runs the statements as one transaction.
      const sql = `BEGIN;
SELECT pg_advisory_xact_lock(${exec});
WITH ev AS (
  INSERT INTO ${schema}.event (execution_id, event_id, event_type, node_name, status, result, meta)
  SELECT (r->>'execution_id')::bigint, (r->>'event_id')::bigint, r->>'event_type', r->>'node_name',
    r->>'status', r->'result', r->'meta'
  FROM jsonb_array_elements(${q(JSON.stringify(rows))}::jsonb) r RETURNING 1
), cmd_done AS (
  UPDATE ${schema}.command SET status = 'COMPLETED', completed_at = now()
  WHERE command_id = ${b.command_id} RETURNING 1
), cmd_new AS (
  INSERT INTO ${schema}.command (command_id, execution_id, step_name, status, context)
  VALUES (${next}, ${exec}, 'next', 'CLAIMED', ${q(JSON.stringify({ args: { n: 1 } }))}::jsonb) RETURNING 1
)
UPDATE ${schema}.execution SET event_count = event_count + ${rows.length}, updated_at = now()
WHERE execution_id = ${exec};
COMMIT;`;
      await client.query(sql);
      if (js) await js.publish(`${schema}.step`, new TextEncoder().encode(next));
      return {
        accepted: b.events.length,
        next: {
          command_id: next,
          execution_id: exec,
          step: 'next',
          tool: { kind: 'noop' },
          context: { workload: { a: 1 }, vars: {}, args: { n: 1 } },
          attempt: 1,
        },
      };
    },
  );
  app.get('/cpu', async () => ({ ms: procCpuMs(process.pid), pg: procCpuMs(backend) }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  process.send({ port: app.server.address().port });
} else if (process.argv[2] === '--client') {
  const port = Number(process.env.BENCH_PORT);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const call = (method, path, body) =>
    new Promise((resolve, reject) => {
      const data = body === undefined ? undefined : JSON.stringify(body);
      const req = http.request(
        {
          host: '127.0.0.1',
          port,
          method,
          path,
          agent,
          headers: data
            ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) }
            : {},
        },
        (res) => {
          const chunks = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString('utf8'))));
        },
      );
      req.on('error', reject);
      req.end(data);
    });
  process.on('message', async ({ exec, steps }) => {
    let command = '1';
    let n = 0;
    const base = BigInt(Date.now()) * 100000n;
    const post = () =>
      call('POST', '/step', {
        execution_id: exec,
        command_id: command,
        worker_id: 'bench-worker',
        events: ['command.started', 'call.done', 'command.completed'].map((t) => ({
          event_id: String(base + BigInt(n++)),
          event_type: t,
          node_name: 'sN',
          status: t === 'command.started' ? 'RUNNING' : 'COMPLETED',
          result: t === 'command.started' ? undefined : RESULT,
          meta: { command_id: command, worker_id: 'bench-worker' },
        })),
      });
    for (let i = 0; i < 50; i++) command = (await post()).next.command_id; // warm-up
    const s0 = await call('GET', '/cpu');
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) command = (await post()).next.command_id;
    const wall = performance.now() - t0;
    const c = process.cpuUsage(c0);
    const s1 = await call('GET', '/cpu');
    process.send({
      wall: wall / steps,
      client: (c.user + c.system) / 1000 / steps,
      server: (s1.ms - s0.ms) / steps,
      pg: (s1.pg - s0.pg) / steps,
    });
  });
} else {
  const { default: pg } = await import('pg');
  const schema = `bench_floor_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: DB_URL });
  await admin.connect();
  // The event table's shape and write indexes as migrations/ define them, cut to the columns
  // written here.
  await admin.query(`CREATE SCHEMA ${schema};
CREATE TABLE ${schema}.event (execution_id bigint NOT NULL, event_id bigint NOT NULL,
  parent_execution_id bigint, event_type text NOT NULL, node_name text, status text,
  result jsonb, meta jsonb, command_key text, idempotency_key text,
  created_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (execution_id, event_id));
CREATE INDEX ON ${schema}.event (execution_id, event_type, event_id);
CREATE INDEX ON ${schema}.event (event_id) INCLUDE (execution_id, event_type);
CREATE INDEX ON ${schema}.event (parent_execution_id) WHERE parent_execution_id IS NOT NULL;
CREATE UNIQUE INDEX ON ${schema}.event (execution_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE UNIQUE INDEX ON ${schema}.event (command_key) WHERE command_key IS NOT NULL AND event_type = 'command.completed';
CREATE TABLE ${schema}.command (command_id bigint PRIMARY KEY, execution_id bigint NOT NULL,
  step_name text, status text, context jsonb, completed_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now());
CREATE INDEX ON ${schema}.command (execution_id, status);
CREATE TABLE ${schema}.execution (execution_id bigint PRIMARY KEY, event_count integer NOT NULL DEFAULT 0,
  updated_at timestamptz);`);
  let jsm;
  let nc;
  if (NATS) {
    const { connect } = await import('@nats-io/transport-node');
    const { jetstreamManager } = await import('@nats-io/jetstream');
    nc = await connect({ servers: NATS_URL });
    jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: schema, subjects: [`${schema}.>`] });
  }
  const server = fork(new URL(import.meta.url).pathname, ['--server'], {
    env: { ...process.env, BENCH_SCHEMA: schema, ...(NATS ? { BENCH_NATS: '1' } : {}) },
  });
  const { port } = await new Promise((r) => server.once('message', r));
  const client = fork(new URL(import.meta.url).pathname, ['--client'], {
    env: { ...process.env, BENCH_PORT: String(port) },
  });
  const runs = [];
  try {
    for (let r = 0; r < RUNS; r++) {
      const exec = String(1000 + r);
      await admin.query(`INSERT INTO ${schema}.execution (execution_id) VALUES (${exec})`);
      client.send({ exec, steps: STEPS });
      const m = await new Promise((res) => client.once('message', res));
      runs.push(m);
      console.log(
        `run ${r + 1}: ${m.wall.toFixed(3)} ms a step; CPU server ${m.server.toFixed(2)}, client ${m.client.toFixed(2)}, PostgreSQL ${m.pg.toFixed(2)} ms`,
      );
    }
    const pick = (k) => median(runs.map((x) => x[k])).toFixed(3);
    console.log(
      `\nmedian of ${RUNS} runs of ${STEPS} steps${NATS ? ' (with a JetStream publish-ack)' : ''}: ` +
        `${pick('wall')} ms a step; CPU a step: server ${pick('server')}, client ${pick('client')}, ` +
        `PostgreSQL ${pick('pg')} ms`,
    );
  } finally {
    client.kill();
    server.kill();
    if (jsm) await jsm.streams.delete(schema).catch(() => undefined);
    await nc?.close();
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
  }
}
