#!/usr/bin/env node
// A parallel loop of many items on a running server (issue 10, item 11): how long `execute` takes,
// how soon the first iteration's command is issued and done, how many commands are in flight,
// and how fast health answers while the loop runs. "Execute" is timed from the request's start,
// its body already encoded; the server's CPU time meanwhile is printed too (Linux).
//   npm run build && node bench/loop.mjs [--items 100000] [--store pglite|postgres] [--seconds 30]
// --store postgres uses PostgreSQL at 127.0.0.1:5432 (database test, a fresh schema) with the
// in-process bus and workers; pglite a fresh NOETL_HOME. The loop's max_in_flight is left out
// (the default applies) unless --max-in-flight N is given. --seconds bounds the wait for the
// loop to finish (the figures up to then are printed either way).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const argOf = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const ITEMS = Number(argOf('--items', '100000'));
const STORE = argOf('--store', 'pglite');
const SECONDS = Number(argOf('--seconds', '60'));
const MAX_IN_FLIGHT = argOf('--max-in-flight', undefined);
// e.g. --node-args "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the server
const NODE_ARGS = (argOf('--node-args', '') ?? '').split(' ').filter(Boolean);
const MAIN = fileURLToPath(new URL('../dist/server/main.js', import.meta.url));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** CPU time a process has used, in ms (Linux /proc; NaN elsewhere): steadier than wall time under load. */
const serverCpuMs = (pid) => {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, in ticks of 1/100 s
  } catch {
    return NaN;
  }
};
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const freePort = () =>
  new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

const PLAYBOOK = `apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: big_loop, path: bench/loop/big }
workload: { items: [] }
workflow:
  - step: start
    loop:
      in: "{{ workload.items }}"
      iterator: item
      spec:
        mode: parallel${MAX_IN_FLIGHT === undefined ? '' : `\n        max_in_flight: ${MAX_IN_FLIGHT}`}
    tool: { kind: noop }
`;

async function main() {
  const home = mkdtempSync(join(tmpdir(), 'noetl-bench-loop-'));
  const port = await freePort();
  const schema = `bench_loop_${process.pid}`;
  const env = {
    ...process.env,
    NOETL_HOME: home,
    NOETL_LOG_LEVEL: 'warn',
    ...(STORE === 'postgres'
      ? {
          NOETL_DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test',
          NOETL_SCHEMA: schema,
          NOETL_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
        }
      : {}),
  };
  delete env.NATS_URL;
  const child = spawn(process.execPath, [...NODE_ARGS, MAIN, '--host', '127.0.0.1', '--port', String(port)], {
    env,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  const call = async (method, path, body) => {
    const r = await fetch(`${url}${path}`, {
      method,
      ...(body === undefined
        ? {}
        : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
    return { status: r.status, body: await r.json() };
  };
  try {
    for (;;) {
      try {
        if ((await fetch(`${url}/api/health`)).ok) break;
      } catch {}
      if (child.exitCode !== null) throw new Error(`server exited ${child.exitCode}`);
      await sleep(50);
    }
    const reg = await call('POST', '/api/catalog/register', { content: PLAYBOOK });
    if (reg.status !== 200) throw new Error(`register: ${JSON.stringify(reg.body)}`);
    const items = Array.from({ length: ITEMS }, (_, i) => ({ id: i, name: `item-${i}` }));

    // encoded before health sampling starts: this process's own 3.4 MB encode would delay probes
    const body = JSON.stringify({ path: 'bench/loop/big', workload: { items } });

    // health sampled all along, from before execute until the end
    const healthMs = [];
    const probes = []; // [start, duration]
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const t = performance.now();
        try {
          await fetch(`${url}/api/health`, { signal: AbortSignal.timeout(30_000) });
        } catch {}
        healthMs.push(performance.now() - t);
        probes.push([t, performance.now() - t]);
        await sleep(100);
      }
    })();

    const cpu0 = serverCpuMs(child.pid);
    const t0 = performance.now();
    const ex = await Promise.race([
      fetch(`${url}/api/execute`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      }).then(async (r) => ({ status: r.status, body: await r.json() })),
      sleep(SECONDS * 1000).then(() => ({ status: 0, body: `no answer within ${SECONDS} s` })),
    ]);
    const executeMs = performance.now() - t0;
    const executeCpuMs = serverCpuMs(child.pid) - cpu0;
    if (ex.status !== 200) {
      sampling = false;
      await sampler;
      const h = `health p50 ${Math.round(pct(healthMs, 50))} ms, max ${Math.round(Math.max(...healthMs))} ms`;
      throw new Error(`execute (${Math.round(executeMs)} ms): ${JSON.stringify(ex.body)}; ${h}`);
    }
    const id = ex.body.execution_id;

    let firstIssuedMs;
    let firstDoneMs;
    let maxInFlight = 0;
    let status = 'RUNNING';
    let issued = 0;
    let done = 0;
    let after;
    const deadline = t0 + SECONDS * 1000;
    // Reads the command events forward (a cursor on the event id) and counts them.
    while (performance.now() < deadline) {
      const q = `types=command.issued,command.completed&limit=1000${after ? `&after=${after}` : ''}`;
      const page = await call('GET', `/api/executions/${id}/events?${q}`);
      for (const e of page.body.events ?? []) {
        if (e.event_type === 'command.issued') issued++;
        else done++;
        maxInFlight = Math.max(maxInFlight, issued - done);
        after = e.event_id;
      }
      if (firstIssuedMs === undefined && issued > 0) firstIssuedMs = performance.now() - t0;
      if (firstDoneMs === undefined && done > 0) firstDoneMs = performance.now() - t0;
      status = page.body.status;
      if ((page.body.events ?? []).length === 1000) continue;
      if (status !== 'RUNNING') break;
      await sleep(200);
    }
    const totalMs = performance.now() - t0;
    sampling = false;
    await sampler;
    const f = (x) => (x === undefined ? 'n/a' : `${Math.round(x)} ms`);
    console.log(`store ${STORE}, ${ITEMS} items, max_in_flight ${MAX_IN_FLIGHT ?? 'default'}`);
    console.log(`  execute returned          ${f(executeMs)}`);
    console.log(`  server CPU meanwhile      ${f(executeCpuMs)} (user + system, all its threads)`);
    console.log(`  first command issued by   ${f(firstIssuedMs)} (seen by polling every 200 ms)`);
    console.log(`  first command completed   ${f(firstDoneMs)}`);
    console.log(`  commands in flight (max)  ${maxInFlight} (issued - completed, in event order)`);
    console.log(
      `  health: ${healthMs.length} probes, p50 ${f(pct(healthMs, 50))}, p99 ${f(pct(healthMs, 99))}, max ${f(Math.max(...healthMs))}`,
    );
    const slowest = [...probes].sort((a, b) => b[1] - a[1]).slice(0, 3);
    console.log(
      `  slowest probes            ${slowest.map(([t, d]) => `${f(d)} at ${f(t - t0)}`).join(', ')} (from execute)`,
    );
    console.log(`  status ${status} after ${f(totalMs)}, ${done} iterations completed`);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(home, { recursive: true, force: true });
    if (STORE === 'postgres') {
      const { default: pg } = await import('pg');
      const c = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/test' });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await c.end();
    }
  }
}

await main();
