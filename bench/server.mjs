#!/usr/bin/env node
// Embedded server figures (issue 4): start time cold and warm, idle RSS, POST /api/events rate.
//   npm run build && node bench/server.mjs [--runs 3] [--seconds 10]
// "cold, first on this machine": a new NOETL_HOME and an empty PGlite template cache (HOME points
// at a temp dir); "cold": a new NOETL_HOME with the cache filled; "warm": a restart of one home.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const RUNS = arg('--runs', 3);
const SECONDS = arg('--seconds', 10);
const MAIN = fileURLToPath(new URL('../dist/server/main.js', import.meta.url));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const freePort = () =>
  new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
const rssMb = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;

async function start(home, env = {}) {
  const port = await freePort();
  const t0 = performance.now();
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
    await sleep(20);
  }
  return { child, url, ms: performance.now() - t0 };
}

function stop(child) {
  return new Promise((resolve) => {
    child.once('exit', resolve);
    child.kill('SIGTERM');
  });
}

const firstEver = [];
const cold = [];
const warm = [];
const idle = [];
for (let r = 0; r < RUNS; r++) {
  const fakeHome = mkdtempSync(join(tmpdir(), 'noetl-bench-home-'));
  const home1 = mkdtempSync(join(tmpdir(), 'noetl-bench-'));
  const a = await start(home1, { HOME: fakeHome });
  firstEver.push(a.ms);
  await stop(a.child);
  const home2 = mkdtempSync(join(tmpdir(), 'noetl-bench-'));
  const b = await start(home2);
  cold.push(b.ms);
  await stop(b.child);
  const c = await start(home2);
  warm.push(c.ms);
  await sleep(3000);
  idle.push(rssMb(c.child.pid));
  await stop(c.child);
  for (const d of [fakeHome, home1, home2]) rmSync(d, { recursive: true, force: true });
}

// POST /api/events: informative events on 16 executions, 32 connections, for SECONDS; once on the
// embedded store (PGlite, fsync on) and once on PostgreSQL (127.0.0.1:5432/test, private schema).
async function eventsRate(env) {
  const home = mkdtempSync(join(tmpdir(), 'noetl-bench-'));
  const s = await start(home, { NOETL_EMBEDDED_WORKERS: '0', ...env });
  const post = async (path, body) => {
    const r = await fetch(`${s.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
    return r.json();
  };
  await post('/api/catalog/register', {
    content:
      'apiVersion: noetl.io/v2\nkind: Playbook\nmetadata: { name: idle, path: bench/idle }\nworkflow:\n  - step: start\n    tool: { kind: noop }\n',
  });
  const executions = [];
  for (let i = 0; i < 16; i++)
    executions.push((await post('/api/execute', { path: 'bench/idle' })).execution_id);
  let count = 0;
  let seq = 1;
  const deadline = performance.now() + SECONDS * 1000;
  const latencies = [];
  await Promise.all(
    Array.from({ length: 32 }, async (_, i) => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        await post('/api/events', {
          execution_id: executions[i % executions.length],
          step: 'start',
          event_type: 'command.heartbeat',
          event_id: String(1e15 + seq++),
          payload: { note: 'bench' },
        });
        latencies.push(performance.now() - t0);
        count++;
      }
    }),
  );
  await stop(s.child);
  rmSync(home, { recursive: true, force: true });
  return { rps: count / SECONDS, p50: median(latencies) };
}

const embedded = await eventsRate({});
const schema = `bench_srv_${process.pid}`;
const pgUrl = process.env.NOETL_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const onPg = await eventsRate({
  NOETL_DATABASE_URL: pgUrl,
  NOETL_SCHEMA: schema,
  NOETL_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
});
const { default: pg } = await import('pg');
const client = new pg.Client({ connectionString: pgUrl });
await client.connect();
await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
await client.end();

const f = (x) => x.toFixed(0);
console.log(`runs: ${RUNS} (medians)`);
console.log(
  `start, first ever on this machine (initdb): ${f(median(firstEver))} ms (${firstEver.map(f).join(', ')})`,
);
console.log(
  `start, cold (new NOETL_HOME, cluster template cached): ${f(median(cold))} ms (${cold.map(f).join(', ')})`,
);
console.log(`start, warm (restart): ${f(median(warm))} ms (${warm.map(f).join(', ')})`);
console.log(`idle RSS after warm start (with 4 in-process worker slots): ${median(idle).toFixed(1)} MB`);
console.log(
  `POST /api/events, embedded (PGlite, fsync on): ${f(embedded.rps)} requests/s over ${SECONDS} s, 32 connections; p50 ${embedded.p50.toFixed(1)} ms`,
);
console.log(
  `POST /api/events, PostgreSQL store: ${f(onPg.rps)} requests/s over ${SECONDS} s, 32 connections; p50 ${onPg.p50.toFixed(1)} ms`,
);
