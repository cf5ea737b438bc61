#!/usr/bin/env node
// Trigger figures (docs/triggers.md, issue 15), on the embedded server (PGlite) and on
// PostgreSQL (in-process bus and workers):
//   - webhook deliveries per second to started executions (bearer-verified ingress), beside
//     POST /api/execute measured the same way in the same run (the ratio is the ingress's cost);
//   - delay from a cron tick to the execution's first step (its first command.started), p50/p99,
//     for a schedule firing every second;
//   - POST /api/execute/batch: items per second started in batches of --batch items (each with its
//     own idempotency key), one batch in flight, and the statements one batch costs the store
//     (BEGIN and COMMIT included; counted in this process on the driver seam, over the built
//     Orchestrator and store), beside the statements of the same items started one by one.
//   npm run build && node bench/triggers.mjs [--deliveries 400] [--concurrency 8] [--ticks 20]
//     [--batch 100] [--batches 20] [--pg]
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const DELIVERIES = arg('--deliveries', 400);
const CONCURRENCY = arg('--concurrency', 8);
const TICKS = arg('--ticks', 20);
const BATCH = arg('--batch', 100);
const BATCHES = arg('--batches', 20);
const WITH_PG = process.argv.includes('--pg') || !process.argv.includes('--no-pg');
const PG_URL = process.env.NOETL_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const MAIN = fileURLToPath(new URL('../dist/server/main.js', import.meta.url));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const freePort = () =>
  new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

const TOKEN = 'bench-hook-token';
const PLAYBOOK = `apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: tick, path: bench/triggers/tick }
workflow:
  - step: start
    tool: { kind: noop }
`;
const SUBSCRIPTION = `apiVersion: noetl.io/v1
kind: Subscription
metadata: { name: bench_hook, path: bench/triggers/hook }
spec:
  source: webhook
  mode: push
  ingress: { gateway_path: /ingress/bench, verify: { type: bearer, secret: bench_hook_token } }
  dispatch: { playbook: bench/triggers/tick }
`;

async function start(env) {
  const home = mkdtempSync(join(tmpdir(), 'noetl-bench-triggers-'));
  const port = await freePort();
  const child = spawn(process.execPath, [MAIN, '--host', '127.0.0.1', '--port', String(port)], {
    env: { ...process.env, NOETL_HOME: home, NOETL_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (;;) {
    try {
      if ((await fetch(`${url}/api/health`)).ok) break;
    } catch {}
    if (child.exitCode !== null) throw new Error(`server exited ${child.exitCode}`);
    await sleep(50);
  }
  const stop = () =>
    new Promise((resolve) => {
      child.once('exit', () => {
        rmSync(home, { recursive: true, force: true });
        resolve();
      });
      child.kill('SIGTERM');
    });
  return { url, stop };
}

async function call(url, method, path, body, headers = {}) {
  const r = await fetch(`${url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await r.text();
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : {};
}

/** Sends `n` requests with `concurrency` in flight; returns requests per second. */
async function rate(n, send) {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < n) {
        const i = next++;
        await send(i);
      }
    }),
  );
  return n / ((performance.now() - t0) / 1000);
}

async function measure(label, env) {
  const server = await start(env);
  try {
    await call(server.url, 'POST', '/api/catalog/register', { content: PLAYBOOK });
    await call(server.url, 'POST', '/api/credentials', {
      name: 'bench_hook_token',
      type: 'generic',
      data: { token: TOKEN },
    });
    await call(server.url, 'POST', '/api/catalog/register', { content: SUBSCRIPTION });
    // warm-up of both paths
    await rate(20, () => call(server.url, 'POST', '/api/execute', { path: 'bench/triggers/tick' }));
    await rate(20, () =>
      call(server.url, 'POST', '/ingress/bench', { n: 0 }, { authorization: `Bearer ${TOKEN}` }),
    );
    const execute = await rate(DELIVERIES, () =>
      call(server.url, 'POST', '/api/execute', { path: 'bench/triggers/tick' }),
    );
    const hooks = await rate(DELIVERIES, (i) =>
      call(server.url, 'POST', '/ingress/bench', { n: i }, { authorization: `Bearer ${TOKEN}` }),
    );
    // let the executions drain before timing ticks
    for (let i = 0; i < 600; i++) {
      const running = await call(server.url, 'GET', '/api/executions?status=RUNNING&limit=1');
      if (running.length === 0) break;
      await sleep(100);
    }
    const schedule = await call(server.url, 'POST', '/api/schedules', {
      path: 'bench/triggers/tick',
      cron: '* * * * * *',
    });
    let fires = [];
    for (let i = 0; i < TICKS * 20 + 200; i++) {
      fires = (
        await call(server.url, 'GET', `/api/schedules/${schedule.schedule_id}/fires?limit=1000`)
      ).items.filter((f) => f.outcome === 'started');
      if (fires.length >= TICKS) break;
      await sleep(100);
    }
    await call(server.url, 'POST', `/api/schedules/${schedule.schedule_id}/pause`, {});
    const delays = [];
    for (const f of fires.slice(0, TICKS)) {
      let started;
      for (let i = 0; i < 100 && !started; i++) {
        const ev = await call(server.url, 'GET', `/api/executions/${f.execution_id}/events?limit=100`);
        started = ev.events.find((e) => e.event_type === 'command.started');
        if (!started) await sleep(100);
      }
      if (started) delays.push(Date.parse(started.created_at) - Date.parse(f.fire_time));
    }
    // batches after the ticks: their executions must not delay the ticks
    const batchTag = randomBytes(4).toString('hex');
    const batch = (b) =>
      call(server.url, 'POST', '/api/execute/batch', {
        executions: Array.from({ length: BATCH }, (_, i) => ({
          path: 'bench/triggers/tick',
          payload: { n: i },
          dedup: { key: `${batchTag}-${b}-${i}` },
        })),
      });
    await batch('warm');
    const b0 = performance.now();
    for (let b = 0; b < BATCHES; b++) {
      const r = await batch(b);
      if (r.started !== BATCH) throw new Error(`batch ${b}: ${JSON.stringify(r).slice(0, 300)}`);
    }
    const batchItems = (BATCHES * BATCH) / ((performance.now() - b0) / 1000);
    console.log(
      `${label.padEnd(10)} webhook ${hooks.toFixed(0)} deliveries/s | execute ${execute.toFixed(0)} req/s | ratio ${(hooks / execute).toFixed(2)} | cron tick -> first step p50 ${pct(delays, 50)} ms p99 ${pct(delays, 99)} ms (${delays.length} ticks)`,
    );
    console.log(
      `${label.padEnd(10)} execute/batch ${batchItems.toFixed(0)} items/s (${BATCHES} batches of ${BATCH}, one in flight) | ${(batchItems / execute).toFixed(1)}x execute`,
    );
  } finally {
    await server.stop();
  }
}

/** Statements sent to the database: each query or exec, and BEGIN + COMMIT per transaction. */
function counting(inner) {
  const db = { statements: 0 };
  const wrap = (d) => ({
    query: (text, params) => (db.statements++, d.query(text, params)),
    exec: (text) => (db.statements++, d.exec(text)),
    tx: (fn) => fn(wrap(d)),
  });
  Object.assign(db, {
    query: (text, params) => (db.statements++, inner.query(text, params)),
    exec: (text) => (db.statements++, inner.exec(text)),
    tx: (fn) => ((db.statements += 2), inner.tx((d) => fn(wrap(d)))),
    nameStatements: (texts) => inner.nameStatements?.(texts),
    stats: () => inner.stats(),
    close: () => inner.close(),
  });
  return db;
}

/** Statements of one batch of BATCH keyed items, and of the same items started one by one. */
async function roundTrips(label, open) {
  const dist = (m) => import(new URL(`../dist/${m}`, import.meta.url).href);
  const [{ SqlStore }, { Orchestrator }, { MemoryBus }, shared, { templates }] = await Promise.all([
    dist('store/index.js'),
    dist('server/orchestrator/orchestrator.js'),
    dist('bus/index.js'),
    dist('shared/index.js'),
    dist('template/index.js'),
  ]);
  const { db, close, schema } = await open();
  const store = new SqlStore(db, label === 'postgres' ? 'pg' : 'pglite', schema ? { schema } : {});
  try {
    await store.migrate();
    await store.catalog.register({ path: 'bench/triggers/tick', kind: 'Playbook', content: PLAYBOOK });
    const o = new Orchestrator({
      store,
      bus: new MemoryBus(),
      ids: new shared.SnowflakeIdGenerator(shared.systemClock),
      clock: shared.systemClock,
      templates: templates(),
      logger: shared.silentLogger,
      serverUrl: 'http://127.0.0.1:0',
    });
    const reqs = (tag) =>
      Array.from({ length: BATCH }, (_, i) => ({
        path: 'bench/triggers/tick',
        payload: { n: i },
        dedupKey: `${tag}-${i}`,
      }));
    await o.executeBatch(reqs('warm'));
    await o.flushPublished();
    let before = db.statements;
    await o.executeBatch(reqs('batch'));
    const batched = db.statements - before;
    await o.flushPublished();
    before = db.statements;
    for (const r of reqs('single')) await o.execute(r);
    const single = db.statements - before;
    await o.flushPublished();
    console.log(
      `${label.padEnd(10)} ${BATCH} keyed items: ${batched} statements as one batch, ${single} one by one`,
    );
  } finally {
    await store.close();
    await close();
  }
}

console.log(
  `deliveries ${DELIVERIES}, concurrency ${CONCURRENCY}, ticks ${TICKS}, batch ${BATCH} x ${BATCHES}`,
);
await roundTrips('embedded', async () => {
  const [{ PGlite }, { PgliteRootDb }] = await Promise.all([
    import('@electric-sql/pglite'),
    import(new URL('../dist/store/pglite/pglite-db.js', import.meta.url).href),
  ]);
  const lite = await PGlite.create({ parsers: { 20: (v) => v } });
  return { db: counting(new PgliteRootDb(lite, () => undefined)), close: async () => {} };
});
if (WITH_PG) {
  const schema = `bench_rt_${randomBytes(4).toString('hex')}`;
  await roundTrips('postgres', async () => {
    const { PgPoolDb } = await import(new URL('../dist/store/pg/pg-db.js', import.meta.url).href);
    const { silentLogger } = await import(new URL('../dist/shared/index.js', import.meta.url).href);
    const pool = new pg.Pool({ connectionString: PG_URL, max: 4 });
    return {
      db: counting(new PgPoolDb(pool, silentLogger, 4)),
      schema,
      close: async () => {
        const c = new pg.Client({ connectionString: PG_URL });
        await c.connect();
        await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await c.end();
      },
    };
  });
}
await measure('embedded', {});
if (WITH_PG) {
  const schema = `bench_trig_${randomBytes(4).toString('hex')}`;
  try {
    await measure('postgres', {
      NOETL_DATABASE_URL: PG_URL,
      NOETL_SCHEMA: schema,
      NOETL_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    });
  } finally {
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await c.end();
  }
}
