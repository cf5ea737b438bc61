#!/usr/bin/env node
// Distributed-mode figures (issue 5, Windmill's method): one machine, default settings,
// synchronous_commit on, medians of several runs after a warm-up, times from our own event log.
//   npm run build && node bench/distributed.mjs [--runs 5] [--soak-minutes 10]
// Starts a control plane (PostgreSQL 127.0.0.1:5432/test in a private schema, NATS 127.0.0.1:4222
// in a private stream) and worker processes, exactly as deployed (`node dist/.../main.js`).
// Every run's log is checked: each command issued was claimed once (`command.claimed`) and
// completed once. BENCH_PROFILE=<dir> writes CPU profiles of the server and the workers there.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { createServer } from 'node:net';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { connect } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const RUNS = arg('--runs', 5);
const SOAK_MINUTES = arg('--soak-minutes', 0);
// Concurrent 20-step chains in the throughput runs: one load level each (a latency curve).
const LOADS = (() => {
  const i = process.argv.indexOf('--chains');
  return i > 0 ? process.argv[i + 1].split(',').map(Number) : [8, 16, 30];
})();
const SLOTS = arg('--slots', 4);
// Which parts run (default all): e.g. `--phases chain` for a CPU profile of the chain alone.
const PHASES = (() => {
  const i = process.argv.indexOf('--phases');
  return new Set(i > 0 ? process.argv[i + 1].split(',') : ['chain', 'fanout', 'throughput']);
})();
const DB_URL = process.env.NOETL_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const id = `bench_${randomBytes(4).toString('hex')}`;
const SERVER = fileURLToPath(new URL('../dist/server/main.js', import.meta.url));
const WORKER = fileURLToPath(new URL('../dist/worker/main.js', import.meta.url));
const children = [];
let stopping = false;

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const pct = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const baseEnv = {
  ...process.env,
  NOETL_DATABASE_URL: DB_URL,
  NOETL_SCHEMA: id,
  NATS_URL,
  NATS_STREAM: `${id}_cmd`,
  NATS_CONSUMER: `${id}_wp`,
  NATS_SUBJECT: `${id}.commands`,
  NOETL_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
  NOETL_LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
  NOETL_HOME: `/tmp/${id}`,
};

async function waitHttp(url, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const r = await fetch(url);
      if (r.ok) return;
    } catch {}
    if (Date.now() > deadline) throw new Error(`not healthy: ${url}`);
    await sleep(100);
  }
}

function start(file, args, env) {
  const child = spawn(
    process.execPath,
    [
      ...(process.env.BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-dir=' + process.env.BENCH_PROFILE] : []),
      file,
      ...args,
    ],
    { env, stdio: ['ignore', process.env.BENCH_VERBOSE ? 'inherit' : 'ignore', 'inherit'] },
  );
  child.on('exit', (code, signal) => {
    if (!stopping) console.error(`${file} exited: ${code ?? signal}`);
  });
  children.push(child);
  return child;
}

async function startWorker(serverUrl, name, maxConcurrent) {
  const port = await freePort();
  const child = start(WORKER, [], {
    ...baseEnv,
    NOETL_SERVER_URL: serverUrl,
    WORKER_ID: `${id}_${name}`,
    WORKER_MAX_CONCURRENT: String(maxConcurrent),
    WORKER_METRICS_BIND: `127.0.0.1:${port}`,
  });
  await waitHttp(`http://127.0.0.1:${port}/health`);
  return { child, port };
}

/** CPU time (user + system) a process has used, in ms: what a step costs whatever the load. */
function cpuMs(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // clock ticks of 10 ms
}

/**
 * CPU time (ms) of every process named `comm` on this machine (`postgres`, `nats-server`), with
 * what their exited children used (a PostgreSQL backend that ended is counted by the postmaster):
 * the services' share of a step, on a machine where nothing else uses them meanwhile.
 */
function serviceCpuMs(comm) {
  let ticks = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    let stat;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // ended meanwhile
    }
    const open = stat.indexOf('(');
    const close = stat.lastIndexOf(') ');
    if (stat.slice(open + 1, close) !== comm) continue;
    const fields = stat.slice(close + 2).split(' ');
    ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
  }
  return (ticks * 1000) / 100;
}

/**
 * Read and write system calls a process made (`/proc/<pid>/io`): every socket write and read
 * counts, each 50-100 us on our machines, so fewer is a step's time saved whatever the load.
 */
function ioCalls(pid) {
  const io = readFileSync(`/proc/${pid}/io`, 'utf8');
  const n = (key) => Number(new RegExp(`${key}: (\\d+)`).exec(io)?.[1] ?? NaN);
  return { writes: n('syscw'), reads: n('syscr') };
}

/** CPU (ms) of the server, the given workers, PostgreSQL and NATS. */
function clusterCpu(serverPid, workerPids) {
  return {
    server: cpuMs(serverPid),
    workers: workerPids.reduce((sum, pid) => sum + cpuMs(pid), 0),
    postgres: serviceCpuMs('postgres'),
    nats: serviceCpuMs('nats-server'),
  };
}

/** `after - before` of each part, per step. */
function cpuPerStep(before, after, steps) {
  return Object.fromEntries(Object.keys(after).map((k) => [k, (after[k] - before[k]) / steps]));
}

/** One line of a step's CPU by part. */
function cpuLine(cpu) {
  const f = (x) => x.toFixed(2);
  const sum = cpu.server + cpu.workers + cpu.postgres + cpu.nats;
  return `server ${f(cpu.server)} ms, workers ${f(cpu.workers)} ms, PostgreSQL ${f(cpu.postgres)} ms, NATS ${f(cpu.nats)} ms; all ${f(sum)} ms`;
}

function rssMb(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

function chain(n, name) {
  const steps = [];
  for (let i = 0; i < n; i++) {
    const step = i === 0 ? 'start' : `s${i}`;
    steps.push(`  - step: ${step}\n    tool: { kind: noop }${i < n - 1 ? `\n    next: [ s${i + 1} ]` : ''}`);
  }
  return `apiVersion: noetl.io/v2\nkind: Playbook\nmetadata: { name: ${name}, path: bench/${name} }\nworkflow:\n${steps.join('\n')}\n`;
}

function fanout(n) {
  const branches = Array.from({ length: n }, (_, i) => `b${i}`);
  const steps = [
    `  - step: start\n    tool: { kind: noop }\n    next: { spec: { mode: inclusive }, arcs: [ ${branches.map((b) => `{ step: ${b} }`).join(', ')} ] }`,
    ...branches.map((b) => `  - step: ${b}\n    tool: { kind: noop }\n    next: [ join ]`),
    '  - step: join\n    tool: { kind: noop }',
  ];
  return `apiVersion: noetl.io/v2\nkind: Playbook\nmetadata: { name: fanout, path: bench/fanout }\nworkflow:\n${steps.join('\n')}\n`;
}

async function main() {
  // ---- floor: one PostgreSQL commit + one JetStream publish-and-ack --------------------------
  const client = new pg.Client({ connectionString: DB_URL });
  await client.connect();
  await client.query(`CREATE TABLE IF NOT EXISTS public.${id}_floor (id bigserial primary key, body jsonb)`);
  const nc = await connect({ servers: NATS_URL });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: `${id}_floor`, subjects: [`${id}.floor`] });
  const js = jetstream(nc);
  const floor = [];
  for (let i = 0; i < 600; i++) {
    const t0 = performance.now();
    await client.query('BEGIN');
    await client.query(`INSERT INTO public.${id}_floor (body) VALUES ($1)`, [{ i }]);
    await client.query('COMMIT');
    await js.publish(`${id}.floor`, JSON.stringify({ i }));
    if (i >= 100) floor.push(performance.now() - t0);
  }
  await jsm.streams.delete(`${id}_floor`);
  await client.query(`DROP TABLE public.${id}_floor`);

  // ---- cluster ---------------------------------------------------------------------------------
  const port = await freePort();
  const serverUrl = `http://127.0.0.1:${port}`;
  const server = start(SERVER, ['--host', '127.0.0.1', '--port', String(port)], baseEnv);
  await waitHttp(`${serverUrl}/api/health`);
  // node:http with kept-alive sockets: the load generator shares the 2 cores with what it
  // measures, and costs a fraction of what fetch does.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const api = (method, path, body) =>
    new Promise((resolve, reject) => {
      const payload = body ? Buffer.from(JSON.stringify(body)) : undefined;
      const req = http.request(`${serverUrl}${path}`, {
        method,
        agent,
        headers: payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {},
      });
      req.on('error', reject);
      req.on('response', (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          if (res.statusCode >= 300) reject(new Error(`${method} ${path}: ${res.statusCode} ${text}`));
          else resolve(JSON.parse(text));
        });
      });
      req.end(payload);
    });
  const w1 = await startWorker(serverUrl, 'w1', SLOTS);
  await sleep(1000);
  const idleRss = rssMb(w1.child.pid);

  // One poller for every execution in flight (GET /api/executions), so the benchmark's own
  // polling stays a small, constant load on the control plane.
  const waiting = new Map();
  let poller;
  const poll = async () => {
    try {
      while (waiting.size > 0) {
        await sleep(25);
        // Only running executions come back; one missing from the answer has finished. Only
        // executions started before the question are judged by its answer.
        const asked = [...waiting.keys()];
        const running = new Set(
          (await api('GET', '/api/executions?status=RUNNING&limit=1000')).map((r) => r.execution_id),
        );
        for (const id of asked) {
          if (running.has(id)) continue;
          const { resolve } = waiting.get(id);
          waiting.delete(id);
          resolve(await api('GET', `/api/executions/${id}/status`));
        }
      }
    } catch (err) {
      // The control plane went away: every waiting run fails with the reason, none hangs.
      for (const { reject } of waiting.values()) reject(err);
      waiting.clear();
    }
    poller = undefined;
  };
  // Starts an execution and waits for its end; its events are read afterwards (`eventsOf`), so
  // the benchmark's reads do not load the control plane while other executions are timed.
  const finish = async (path) => {
    const { execution_id } = await api('POST', '/api/execute', { path });
    const row = await new Promise((resolve, reject) => {
      waiting.set(execution_id, { resolve, reject });
      poller ??= poll();
    });
    if (row.status !== 'COMPLETED') throw new Error(`${path} ${row.status}: ${row.error}`);
    return execution_id;
  };
  const eventsOf = async (executionId) => {
    const { events } = await api('GET', `/api/executions/${executionId}/events?limit=10000`);
    const t = (e) => Date.parse(e.created_at);
    return { events, ms: t(events.at(-1)) - t(events[0]) };
  };
  const run = async (path) => eventsOf(await finish(path));
  // The claim gate: every command issued was claimed once and completed once, whatever path
  // its claim took (the claim route, or handed to the worker with the previous command's end).
  const checkGate = (events, steps, what) => {
    const count = (type) => events.filter((e) => e.event_type === type).length;
    const claimedOnce = new Map();
    for (const e of events) {
      if (e.event_type !== 'command.claimed') continue;
      const cid = e.meta?.command_id;
      claimedOnce.set(cid, (claimedOnce.get(cid) ?? 0) + 1);
    }
    const issued = count('command.issued');
    const claimed = count('command.claimed');
    const completed = count('command.completed');
    if (
      issued !== steps ||
      claimed !== steps ||
      completed !== steps ||
      [...claimedOnce.values()].some((n) => n !== 1)
    )
      throw new Error(
        `${what}: ${steps} steps, but ${issued} command.issued, ${claimed} command.claimed (${claimedOnce.size} commands), ${completed} command.completed`,
      );
  };
  // Round trips per step in the timed chain runs: requests the control plane answered, by route
  // (its /metrics), commits in the database (pg_stat_database, this database: the machine is
  // otherwise quiet), and notifications published to the command stream.
  const requestCounts = async () => {
    const text = await new Promise((resolve, reject) => {
      http
        .get(`${serverUrl}/metrics`, { agent }, (res) => {
          const chunks = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () => resolve(Buffer.concat(chunks).toString()));
          res.on('error', reject);
        })
        .on('error', reject);
    });
    // Requests answered and seconds spent answering them (the server's own timing), by route.
    const counts = {};
    for (const m of text.matchAll(
      /^noetl_http_request_duration_seconds_(sum|count)\{([^}]*)\} ([0-9.e+-]+)/gm,
    )) {
      const route = /route="([^"]*)"/.exec(m[2])?.[1] ?? '?';
      const method = /method="([^"]*)"/.exec(m[2])?.[1] ?? '?';
      const key = `${method} ${route}`;
      counts[key] ??= { n: 0, seconds: 0 };
      if (m[1] === 'count') counts[key].n += Number(m[3]);
      else counts[key].seconds += Number(m[3]);
    }
    return counts;
  };
  const commits = async () =>
    Number(
      (await client.query('SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()'))
        .rows[0].xact_commit,
    );
  const published = async () => (await jsm.streams.info(`${id}_cmd`)).state.last_seq;

  await api('POST', '/api/catalog/register', { content: chain(40, 'chain40') });
  await api('POST', '/api/catalog/register', { content: fanout(400) });
  await api('POST', '/api/catalog/register', { content: chain(20, 'chain20') });

  const perStep = [];
  const fan = [];
  let perStepCounts;
  if (PHASES.has('chain')) {
    checkGate((await run('bench/chain40')).events, 40, 'chain40'); // warm-up
    const before = {
      cpu: clusterCpu(server.pid, [w1.child.pid]),
      io: { server: ioCalls(server.pid), worker: ioCalls(w1.child.pid) },
      requests: await requestCounts(),
      commits: await commits(),
      published: await published(),
    };
    const chainRuns = [];
    for (let r = 0; r < RUNS; r++) {
      const executionId = await finish('bench/chain40');
      chainRuns.push(executionId);
      perStep.push((await eventsOf(executionId)).ms / 40);
    }
    const after = {
      cpu: clusterCpu(server.pid, [w1.child.pid]),
      io: { server: ioCalls(server.pid), worker: ioCalls(w1.child.pid) },
      requests: await requestCounts(),
      commits: await commits(),
      published: await published(),
    };
    // Where a chain step's time goes, from the log (millisecond times): issued -> claimed is the
    // notification and the claim, claimed -> completed the worker's run and its report.
    const chainPhases = { queued: [], ran: [] };
    for (const executionId of chainRuns) {
      const { events } = await eventsOf(executionId);
      checkGate(events, 40, 'chain40');
      const at = new Map(
        events.map((e) => [`${e.meta?.command_id}:${e.event_type}`, Date.parse(e.created_at)]),
      );
      for (const e of events) {
        if (e.event_type !== 'command.issued') continue;
        const t = (type) => at.get(`${e.meta.command_id}:${type}`);
        chainPhases.queued.push(t('command.claimed') - t('command.issued'));
        chainPhases.ran.push(t('command.completed') - t('command.claimed'));
      }
    }
    const chainSteps = 40 * RUNS;
    perStepCounts = {
      phases: chainPhases,
      cpu: cpuPerStep(before.cpu, after.cpu, chainSteps),
      io: Object.fromEntries(
        ['server', 'worker'].map((k) => [k, cpuPerStep(before.io[k], after.io[k], chainSteps)]),
      ),
      commits: (after.commits - before.commits) / chainSteps,
      published: (after.published - before.published) / chainSteps,
      requests: Object.entries(after.requests)
        .map(([k, v]) => {
          const b = before.requests[k] ?? { n: 0, seconds: 0 };
          const n = v.n - b.n;
          return {
            route: k,
            perStep: n / chainSteps,
            meanMs: n > 0 ? ((v.seconds - b.seconds) * 1000) / n : 0,
          };
        })
        .filter((r) => r.perStep > 0 && !r.route.includes('/metrics')),
    };
  }
  if (PHASES.has('fanout')) {
    checkGate((await run('bench/fanout')).events, 402, 'fanout');
    for (let r = 0; r < RUNS; r++) {
      const { events, ms } = await run('bench/fanout');
      checkGate(events, 402, 'fanout');
      fan.push(ms);
    }
  }

  // ---- throughput with 2 workers, at several load levels ------------------------------------
  const w2 = await startWorker(serverUrl, 'w2', SLOTS);
  const levels = [];
  for (const N of PHASES.has('throughput') ? LOADS : []) {
    const throughput = [];
    const latencies = [];
    const phases = { queued: [], claimedToStarted: [], startedToDone: [], first: [], rest: [] };
    const workerPids = [w1.child.pid, w2.child.pid];
    // One warm-up round first (as every other phase has): the first chains after start-up ran
    // on code the JIT had not compiled yet, and their first steps made the p99 of the level.
    await Promise.all(Array.from({ length: N }, () => finish('bench/chain20')));
    const cpuBefore = clusterCpu(server.pid, workerPids);
    let steps = 0;
    for (let r = 0; r < Math.max(3, Math.min(RUNS, 5)); r++) {
      const t0 = performance.now();
      const done = await Promise.all(Array.from({ length: N }, () => finish('bench/chain20')));
      const seconds = (performance.now() - t0) / 1000;
      const results = [];
      for (const executionId of done) results.push(await eventsOf(executionId));
      for (const { events } of results) checkGate(events, 20, 'chain20');
      throughput.push((N * 20) / seconds);
      steps += N * 20;
      for (const { events } of results) {
        const at = new Map();
        const issued = [];
        const stepOf = new Map();
        for (const e of events) {
          const cid = e.meta?.command_id;
          if (!cid) continue;
          at.set(`${cid}:${e.event_type}`, Date.parse(e.created_at));
          if (e.event_type === 'command.issued') {
            issued.push(cid);
            stepOf.set(cid, e.node_name);
          }
        }
        for (const cid of issued) {
          const t = (type) => at.get(`${cid}:${type}`);
          if (t('command.completed') !== undefined) {
            const ms = t('command.completed') - t('command.issued');
            latencies.push(ms);
            // a chain's first step waits behind every chain started at once; the others behind
            // the steps queued before them
            (stepOf.get(cid) === 'start' ? phases.first : phases.rest).push(ms);
          }
          if (t('command.claimed') !== undefined)
            phases.queued.push(t('command.claimed') - t('command.issued'));
          if (t('command.started') !== undefined && t('command.claimed') !== undefined)
            phases.claimedToStarted.push(t('command.started') - t('command.claimed'));
          if (t('command.completed') !== undefined && t('command.started') !== undefined)
            phases.startedToDone.push(t('command.completed') - t('command.started'));
        }
      }
    }
    // CPU per step of each part, the bench's reads of the log included.
    const cpu = cpuPerStep(cpuBefore, clusterCpu(server.pid, workerPids), steps);
    levels.push({ N, throughput, latencies, phases, cpu });
  }

  // ---- soak ---------------------------------------------------------------------------------
  let soak;
  if (SOAK_MINUTES > 0) {
    const samples = [];
    const end = Date.now() + SOAK_MINUTES * 60_000;
    let steps = 0;
    // Open loop: five 20-step chains start every second whether or not earlier ones are done,
    // so the offered load is 100 steps/s however long a chain takes.
    const inFlight = new Set();
    let failure;
    while (Date.now() < end && failure === undefined) {
      const t0 = Date.now();
      for (let i = 0; i < 5; i++) {
        const p = finish('bench/chain20').then(
          () => {
            steps += 20;
            inFlight.delete(p);
          },
          (err) => {
            failure ??= err;
          },
        );
        inFlight.add(p);
      }
      samples.push({
        t: Date.now(),
        w1: rssMb(w1.child.pid),
        w2: rssMb(w2.child.pid),
        server: rssMb(server.pid),
      });
      const wait = 1000 - (Date.now() - t0);
      if (wait > 0) await sleep(wait);
    }
    await Promise.all(inFlight);
    if (failure !== undefined) throw failure;
    // From the first minute on (JIT and caches warm): RSS then, at the end, the peak, and the
    // least-squares slope in MB per minute.
    const warm = samples.filter((x) => x.t - samples[0].t >= 60_000);
    const slope = (key) => {
      const xs = warm.map((x) => (x.t - warm[0].t) / 60_000);
      const ys = warm.map((x) => x[key]);
      const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
      const my = ys.reduce((a, b) => a + b, 0) / ys.length;
      const num = xs.reduce((a, x, i) => a + (x - mx) * (ys[i] - my), 0);
      const den = xs.reduce((a, x) => a + (x - mx) ** 2, 0);
      return den === 0 ? 0 : num / den;
    };
    const seconds = (samples.at(-1).t - samples[0].t) / 1000;
    soak = { steps, seconds, warm, slope, peak: (key) => Math.max(...warm.map((x) => x[key])) };
  }

  const f = (x) => x.toFixed(2);
  console.log(`runs: ${RUNS} (medians after one warm-up)`);
  console.log(
    `floor (PostgreSQL commit + JetStream publish-ack): median ${f(median(floor))} ms, p99 ${f(pct(floor, 0.99))} ms`,
  );
  if (perStepCounts) {
    console.log(
      `40-step no-op chain, 1 worker: ${f(median(perStep))} ms/step (runs: ${perStep.map(f).join(', ')})  = ${f(median(perStep) / median(floor))}x the floor`,
    );
    console.log(
      `  per chain step (timed runs, whole cluster): ${f(perStepCounts.commits)} database commits, ${f(perStepCounts.published)} notifications published, requests (per step, mean time in the server): ${perStepCounts.requests.map((r) => `${r.route} ${f(r.perStep)} (${f(r.meanMs)} ms)`).join(', ')}`,
    );
    const ph = perStepCounts.phases;
    console.log(`  CPU per chain step: ${cpuLine(perStepCounts.cpu)}`);
    const io = perStepCounts.io;
    console.log(
      `  system calls per chain step (the bench's reads of the log included): server ${io.server.writes.toFixed(2)} writes, ${io.server.reads.toFixed(2)} reads; worker ${io.worker.writes.toFixed(2)} writes, ${io.worker.reads.toFixed(2)} reads`,
    );
    console.log(
      `  chain phases, mean: issued->claimed ${f(ph.queued.reduce((a, b) => a + b, 0) / ph.queued.length)} ms, claimed->completed ${f(ph.ran.reduce((a, b) => a + b, 0) / ph.ran.length)} ms`,
    );
  }
  if (fan.length > 0)
    console.log(`1 -> 400 -> join, 1 worker: ${f(median(fan))} ms total, ${f(median(fan) / 402)} ms/step`);
  for (const { N, throughput, latencies, phases, cpu } of levels) {
    console.log(
      `throughput, 2 workers x ${SLOTS} slots, ${N} concurrent 20-step chains: ${f(median(throughput))} steps/s (runs: ${throughput.map((x) => x.toFixed(0)).join(', ')}); step latency (command.issued -> command.completed) p50 ${f(pct(latencies, 0.5))} ms, p99 ${f(pct(latencies, 0.99))} ms (n=${latencies.length})`,
    );
    console.log(
      `  phases (p50 / p99): issued->claimed ${f(pct(phases.queued, 0.5))} / ${f(pct(phases.queued, 0.99))} ms, claimed->started ${f(pct(phases.claimedToStarted, 0.5))} / ${f(pct(phases.claimedToStarted, 0.99))} ms, started->completed ${f(pct(phases.startedToDone, 0.5))} / ${f(pct(phases.startedToDone, 0.99))} ms; first steps p50 / p99 ${f(pct(phases.first, 0.5))} / ${f(pct(phases.first, 0.99))} ms, the others ${f(pct(phases.rest, 0.5))} / ${f(pct(phases.rest, 0.99))} ms`,
    );
    console.log(`  CPU per step: ${cpuLine(cpu)} (the bench's own reads of the log included)`);
  }
  console.log(`worker idle RSS: ${f(idleRss)} MB`);
  console.log(
    'claim gate checked in every run: command.issued = command.claimed = command.completed = steps, each command claimed once',
  );
  if (soak && soak.warm.length > 1) {
    console.log(`soak ${SOAK_MINUTES} min: ${soak.steps} steps, ${f(soak.steps / soak.seconds)} steps/s`);
    for (const key of ['w1', 'w2', 'server']) {
      console.log(
        `  ${key} RSS: ${f(soak.warm[0][key])} MB at 1 min -> ${f(soak.warm.at(-1)[key])} MB at the end, peak ${f(soak.peak(key))} MB, slope ${f(soak.slope(key))} MB/min`,
      );
    }
  }
  await nc.close();
  await client.query(`DROP SCHEMA IF EXISTS ${id} CASCADE`);
  await client.end();
}

try {
  await main();
} finally {
  stopping = true;
  for (const c of children) c.kill('SIGTERM');
  const deadline = Date.now() + 10_000;
  while (children.some((c) => c.exitCode === null && c.signalCode === null) && Date.now() < deadline)
    await sleep(100);
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  try {
    const nc = await connect({ servers: NATS_URL });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.delete(`${id}_cmd`).catch(() => {});
    await nc.close();
  } catch {}
}
