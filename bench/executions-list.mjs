#!/usr/bin/env node
// Executions list of the web UI (issue 13): first-page latency with 100,000 executions in the
// embedded server's PGlite store, unfiltered and filtered, and a deep page reached by cursor.
//   npm run build && node bench/executions-list.mjs [--executions 100000] [--runs 20]
// The executions are written straight into the projection table (one INSERT ... SELECT), spread
// over 30 days and 200 playbook paths; 8% FAILED, 1% RUNNING, 1% CANCELLED.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const COUNT = arg('--executions', 100_000);
const RUNS = arg('--runs', 20);
const MAIN = fileURLToPath(new URL('../dist/server/main.js', import.meta.url));
const { openStore } = await import('../dist/store/index.js');
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

const home = mkdtempSync(join(tmpdir(), 'noetl-bench-list-'));
const dataDir = join(home, 'data');
let t0 = performance.now();
const store = await openStore({ dataDir });
await store.query(`INSERT INTO noetl.execution (execution_id, catalog_id, path, status, start_time,
    end_time, last_event_type, last_node_name, event_count, error, workload)
  SELECT 7000000000000000000 + i, 1000 + i % 200, 'bench/team-' || (i % 20) || '/flow-' || (i % 200),
    s.status, t.start, CASE WHEN s.status = 'RUNNING' THEN NULL ELSE t.start + interval '3 seconds' END,
    'playbook.completed', 'end', 12,
    CASE WHEN s.status = 'FAILED' THEN 'step load failed: connection refused' END,
    jsonb_build_object('n', i, 'label', 'row ' || i)
  FROM generate_series(1, ${COUNT}) AS i
  CROSS JOIN LATERAL (SELECT now() - (${COUNT} - i) * (interval '30 days' / ${COUNT}) AS start) t
  CROSS JOIN LATERAL (SELECT CASE WHEN i % 100 < 8 THEN 'FAILED' WHEN i % 100 = 8 THEN 'RUNNING'
    WHEN i % 100 = 9 THEN 'CANCELLED' ELSE 'COMPLETED' END AS status) s`);
await store.query('ANALYZE noetl.execution');
await store.close();
console.log(`seeded ${COUNT} executions in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

const port = await freePort();
const child = spawn(process.execPath, [MAIN, '--host', '127.0.0.1', '--port', String(port)], {
  env: { ...process.env, NOETL_HOME: home, NOETL_LOG_LEVEL: 'warn' },
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

async function get(path) {
  const t = performance.now();
  const res = await fetch(`${url}${path}`);
  const rows = await res.json();
  if (res.status !== 200) throw new Error(`${path}: ${res.status} ${JSON.stringify(rows)}`);
  return { ms: performance.now() - t, rows, next: res.headers.get('x-next-cursor') };
}

const day = new Date(Date.now() - 24 * 3600_000).toISOString();
const cases = [
  ['first page (50)', '/api/executions'],
  ['status=FAILED', '/api/executions?status=FAILED'],
  ['status=CANCELLED', '/api/executions?status=CANCELLED'],
  ['path prefix (1 of 20 teams)', '/api/executions?path=bench%2Fteam-7%2F'],
  ['path exact (1 of 200)', '/api/executions?path=bench%2Fteam-3%2Fflow-123'],
  ['q substring (1 of 200)', '/api/executions?q=flow-77'],
  ['q matching nothing', '/api/executions?q=no-such-flow'],
  ['since 24 h', `/api/executions?since=${day}`],
  ['500 rows', '/api/executions?limit=500'],
];
console.log(`\nGET latency over ${RUNS} runs (ms), ${COUNT} executions, PGlite`);
console.log('case                             first   p50   p99  rows');
for (const [name, path] of cases) {
  const first = await get(path);
  const times = [];
  for (let i = 0; i < RUNS; i++) times.push((await get(path)).ms);
  console.log(
    `${name.padEnd(32)} ${first.ms.toFixed(1).padStart(5)} ${pct(times, 50).toFixed(1).padStart(5)} ${pct(
      times,
      99,
    )
      .toFixed(1)
      .padStart(5)}  ${first.rows.length}`,
  );
}
// Page 200 by cursor (rows 9,951-10,000): each page costs what the first does.
let page = await get('/api/executions');
const deep = [];
for (let i = 1; i < 200; i++) {
  page = await get(`/api/executions?cursor=${page.next}`);
  deep.push(page.ms);
}
console.log(
  `pages 2-200 by cursor             p50 ${pct(deep, 50).toFixed(1)}  p99 ${pct(deep, 99).toFixed(1)}`,
);

child.kill('SIGTERM');
await new Promise((r) => child.once('exit', r));
rmSync(home, { recursive: true, force: true });
