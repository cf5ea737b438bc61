#!/usr/bin/env node
// Embedded server, per-step cost (issue 17): noop chains through `node dist/server/main.js` with no
// database configured (PGlite under NOETL_HOME with fsync on, in-process bus and workers), beside
// the floor measured in the same run: one single-row INSERT commit on a PGlite store opened with
// the server's settings (fsync on, shared_buffers 16MB), in a child process, on the same disk.
//
//   npm run build && node bench/embedded.mjs [--runs 5] [--steps 40,400] [--chains 8]
//        [--dist path/to/dist] [--ab path/to/other/dist] [--profile dir]
//
// Per-step time: (last event - first event of the execution) / steps, from the event log's own
// timestamps; the wall time (POST /api/execute to the status poll seeing the end) is printed too.
// Each run also checks the log: one `command.claimed` and one `command.completed` per step, every
// command claimed once (the claim gate) and no command completed twice (exactly-once).
// --chains N: N chains of 40 steps started together (throughput; concurrent executions' commits
// can share a flush). --dist runs another build (a git worktree's dist, for before/after figures);
// --ab runs a second build beside it, both servers up, each round running each in turn after a
// floor sample, so both meet the same load (figures per build, ratios to the round's floor).
// --profile DIR: the server runs under `node --cpu-prof` and writes its profile into DIR.
// BENCH_WRAP="strace -f -c -e trace=fsync -o FILE": the server runs under that program (counts).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';

const argOf = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : dflt;
};
const RUNS = Number(argOf('--runs', '5'));
const STEPS = argOf('--steps', '40,400').split(',').map(Number);
const CHAINS = Number(argOf('--chains', '8'));
const DIST = resolve(argOf('--dist', fileURLToPath(new URL('../dist', import.meta.url))));
const AB = argOf('--ab', undefined);
const DISTS = [DIST, ...(AB ? [resolve(AB)] : [])];
const PROFILE = argOf('--profile', undefined);
const MIGRATIONS = join(DIST, '..', 'migrations');
const self = fileURLToPath(import.meta.url);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const pct = (xs, q) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];

// ---------------------------------------------------------------- floor (child process)
async function childFloor(dataDir, n) {
  const { openStore } = await import(pathToFileURL(join(DIST, 'store', 'index.js')).href);
  const store = await openStore({ dataDir, migrationsDir: MIGRATIONS });
  const schema = store.stats().schema;
  await store.query(`CREATE TABLE IF NOT EXISTS ${schema}.bench_floor (id bigint PRIMARY KEY)`);
  const samples = [];
  for (let i = 0; i < n + 200; i++) {
    const t = performance.now();
    await store.query(`INSERT INTO ${schema}.bench_floor VALUES ($1)`, [String(1e15 + i)]);
    if (i >= 200) samples.push(performance.now() - t);
  }
  await store.query(`DROP TABLE ${schema}.bench_floor`);
  await store.close();
  return { p50: median(samples), p99: pct(samples, 0.99) };
}

function floor(dir, n = 2000) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(
      process.execPath,
      [self, '--child-floor', join(dir, 'floor-data'), String(n), '--dist', DIST],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('exit', (code) =>
      code === 0 ? resolvePromise(JSON.parse(out)) : reject(new Error(`floor child exit ${code}`)),
    );
  });
}

// ---------------------------------------------------------------- server
function freePort() {
  return new Promise((r) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => r(port));
    });
  });
}

async function startServer(dist, home) {
  const port = await freePort();
  // BENCH_WRAP="strace -f -c -e trace=fsync -o FILE" runs the server under another program
  const wrap = process.env.BENCH_WRAP ? process.env.BENCH_WRAP.split(' ') : [];
  const child = spawn(
    wrap[0] ?? process.execPath,
    [
      ...(wrap.length > 0 ? [...wrap.slice(1), process.execPath] : []),
      ...(PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE}`] : []),
      join(dist, 'server', 'main.js'),
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
    ],
    {
      env: { ...process.env, NOETL_HOME: home, NOETL_LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn' },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const url = `http://127.0.0.1:${port}`;
  for (;;) {
    try {
      if ((await fetch(`${url}/api/health`)).ok) break;
    } catch {}
    if (child.exitCode !== null) throw new Error(`server exited ${child.exitCode}`);
    await sleep(50);
  }
  return { child, url };
}

function stopServer(child) {
  return new Promise((r) => {
    if (child.exitCode !== null) return r();
    child.once('exit', r);
    child.kill('SIGTERM');
  });
}

function chain(n, name) {
  const steps = [];
  for (let i = 0; i < n; i++) {
    const step = i === 0 ? 'start' : `s${i}`;
    steps.push(`  - step: ${step}\n    tool: { kind: noop }${i < n - 1 ? `\n    next: [ s${i + 1} ]` : ''}`);
  }
  return `apiVersion: noetl.io/v2\nkind: Playbook\nmetadata: { name: ${name}, path: bench/${name} }\nworkflow:\n${steps.join('\n')}\n`;
}

/** Counts of the log: claims and completions per command, the claim gate and exactly-once. */
function checkLog(events, steps) {
  const claimed = new Map();
  const completed = new Map();
  for (const e of events) {
    const cid = e.meta?.command_id;
    if (e.event_type === 'command.claimed') claimed.set(cid, (claimed.get(cid) ?? 0) + 1);
    if (e.event_type === 'command.completed') completed.set(cid, (completed.get(cid) ?? 0) + 1);
  }
  const claims = [...claimed.values()].reduce((a, b) => a + b, 0);
  const completions = [...completed.values()].reduce((a, b) => a + b, 0);
  const problems = [];
  if (claims !== steps) problems.push(`${claims} command.claimed for ${steps} steps`);
  if (completions !== steps) problems.push(`${completions} command.completed for ${steps} steps`);
  if ([...claimed.values()].some((n) => n !== 1)) problems.push('a command claimed twice');
  if ([...completed.values()].some((n) => n !== 1)) problems.push('a command completed twice');
  for (const cid of completed.keys()) if (!claimed.has(cid)) problems.push(`${cid} completed unclaimed`);
  return { claims, problems };
}

function client(url, agent) {
  return (method, path, body) =>
    new Promise((res, rej) => {
      const payload = body ? Buffer.from(JSON.stringify(body)) : undefined;
      const req = http.request(`${url}${path}`, {
        method,
        agent,
        headers: payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {},
      });
      req.on('error', rej);
      req.on('response', (r) => {
        const chunks = [];
        r.on('data', (c) => chunks.push(c));
        r.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          if (r.statusCode >= 300) rej(new Error(`${method} ${path}: ${r.statusCode} ${text}`));
          else res(JSON.parse(text));
        });
      });
      req.end(payload);
    });
}

/** One chain run on one server: per-step time from the log, wall time, and the log's checks. */
async function runChain(api, n) {
  const t0 = performance.now();
  const { execution_id: id } = await api('POST', '/api/execute', { path: `bench/chain${n}` });
  for (;;) {
    const s = await api('GET', `/api/executions/${id}/status`);
    if (s.status !== 'RUNNING') {
      if (s.status !== 'COMPLETED') throw new Error(`chain${n} ${s.status}: ${s.error}`);
      break;
    }
    await sleep(50); // the poll is a transaction on the one PGlite session: not too often
  }
  const wallMs = performance.now() - t0;
  const { events } = await api('GET', `/api/executions/${id}/events?limit=10000`);
  const t = (e) => Date.parse(e.created_at);
  const check = checkLog(events, n);
  if (check.problems.length > 0) throw new Error(`chain${n} ${id}: ${check.problems.join('; ')}`);
  return { perStep: (t(events.at(-1)) - t(events[0])) / n, wallPerStep: wallMs / n, claims: check.claims };
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'noetl-bench-embedded-'));
  const agent = new http.Agent({ keepAlive: true });
  // With --ab both servers run side by side (the idle one costs a sweep every 2 s) and every
  // round runs each once, in turn, right after a floor sample: on a shared machine whose load
  // moves by the minute, the two builds then meet the same conditions.
  const targets = DISTS.map((dist, i) => ({
    dist,
    home: join(dir, `home-${i}`),
    results: new Map(),
    rates: [],
  }));
  try {
    for (const target of targets) {
      target.server = await startServer(target.dist, target.home);
      target.api = client(target.server.url, agent);
      for (const n of new Set([...STEPS, 40]))
        await target.api('POST', '/api/catalog/register', { content: chain(n, `chain${n}`) });
      for (const n of STEPS) await runChain(target.api, n); // warm-up
    }
    const floors = [];
    for (let r = 0; r < RUNS; r++) {
      const fl = await floor(dir, 1000);
      floors.push(fl);
      for (const target of targets) {
        for (const n of STEPS) {
          const res = await runChain(target.api, n);
          const list = target.results.get(n) ?? [];
          list.push({ ...res, ratio: res.perStep / fl.p50 });
          target.results.set(n, list);
        }
      }
    }
    for (let r = 0; CHAINS > 0 && r < Math.max(1, Math.min(RUNS, 3)); r++) {
      for (const target of targets) {
        const t0 = performance.now();
        await Promise.all(Array.from({ length: CHAINS }, () => runChain(target.api, 40)));
        target.rates.push((CHAINS * 40) / ((performance.now() - t0) / 1000));
      }
    }
    for (const target of targets) {
      await stopServer(target.server.child);
      target.server = undefined;
    }

    const f = (x) => x.toFixed(2);
    console.log(
      `floor (PGlite single-row INSERT commit, fsync on, shared_buffers 16MB), one sample of 1000 per round: p50 ${f(median(floors.map((x) => x.p50)))} ms (rounds: ${floors.map((x) => f(x.p50)).join(', ')})`,
    );
    for (const target of targets) {
      console.log(`dist: ${target.dist}`);
      for (const [n, rs] of target.results) {
        const per = rs.map((x) => x.perStep);
        console.log(
          `  ${n}-step noop chain: ${f(median(per))} ms/step (runs: ${per.map(f).join(', ')}); ${f(median(rs.map((x) => x.ratio)))}x its round's floor (median); wall ${f(median(rs.map((x) => x.wallPerStep)))} ms/step; command.claimed ${rs[0].claims}/${n} in every run`,
        );
      }
      if (target.rates.length > 0) {
        console.log(
          `  ${CHAINS} concurrent 40-step chains: ${median(target.rates).toFixed(0)} steps/s (runs: ${target.rates.map((x) => x.toFixed(0)).join(', ')})`,
        );
      }
    }
  } finally {
    for (const target of targets) if (target.server) await stopServer(target.server.child);
    agent.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child-floor') {
  process.stdout.write(JSON.stringify(await childFloor(process.argv[3], Number(process.argv[4]))));
} else {
  await main();
}
