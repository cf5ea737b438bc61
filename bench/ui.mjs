#!/usr/bin/env node
// Web UI figures (issue 13), in Debian's headless Chromium against an embedded server:
//   - JS shipped: gzipped size of the first-load bundle and of the graph chunk (dagre);
//   - first load of `/` to a drawn dashboard (fresh browser context each run: cold cache);
//   - a deep link to an execution to its drawn graph;
//   - a 500-step execution: deep link to all 500 nodes drawn, and the in-page layout + draw time;
//   - event to screen while 100 executions run: from an event's created_at to the DOM change it
//     causes, on the executions list (a row turns COMPLETED) and on an execution's page (a node
//     turns completed), both open in the browser while the executions run.
//   npm run build && node bench/ui.mjs [--runs 5]
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const RUNS = arg('--runs', 5);
const MAIN = fileURLToPath(new URL('../dist/server/main.js', import.meta.url));
const UI = fileURLToPath(new URL('../dist/ui/', import.meta.url));
const CHROMIUM = process.env.NOETL_CHROMIUM ?? '/usr/bin/chromium';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const fmt = (xs) =>
  `median ${median(xs).toFixed(0)} ms (min ${Math.min(...xs).toFixed(0)}, max ${Math.max(...xs).toFixed(0)})`;
const freePort = () =>
  new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

// --- bundle sizes ---------------------------------------------------------------------------
const html = readFileSync(join(UI, 'index.html'), 'utf8');
const entry = [...html.matchAll(/src="\/assets\/([^"]+\.js)"/g)].map((m) => m[1]);
const assets = readdirSync(join(UI, 'assets'));
const gz = (f) => gzipSync(readFileSync(join(UI, 'assets', f))).length;
const firstLoadJs = entry.reduce((a, f) => a + gz(f), 0);
const lazyJs = assets.filter((f) => f.endsWith('.js') && !entry.includes(f));
const css = assets.filter((f) => f.endsWith('.css')).reduce((a, f) => a + gz(f), 0);
console.log(`first-load JS (gzip): ${(firstLoadJs / 1024).toFixed(1)} kB (${entry.join(', ')})`);
for (const f of lazyJs) console.log(`lazy chunk ${f} (gzip): ${(gz(f) / 1024).toFixed(1)} kB`);
console.log(`CSS (gzip): ${(css / 1024).toFixed(1)} kB`);

// --- server ---------------------------------------------------------------------------------
const home = mkdtempSync(join(tmpdir(), 'noetl-bench-ui-'));
const port = await freePort();
const child = spawn(process.execPath, [MAIN, '--host', '127.0.0.1', '--port', String(port)], {
  env: { ...process.env, NOETL_HOME: home, NOETL_LOG_LEVEL: 'warn' },
  stdio: ['ignore', 'ignore', 'inherit'],
});
const url = `http://127.0.0.1:${port}`;
// The server must not outlive the bench, whatever fails.
process.on('exit', () => child.kill('SIGTERM'));
process.on('uncaughtException', (err) => {
  console.error(err);
  process.exit(1);
});
for (;;) {
  try {
    if ((await fetch(`${url}/api/health`)).ok) break;
  } catch {}
  if (child.exitCode !== null) throw new Error(`server exited ${child.exitCode}`);
  await sleep(50);
}
const post = async (path, body) => {
  const r = await fetch(url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const j = await r.json();
  if (!r.ok) throw new Error(`${path}: ${r.status} ${JSON.stringify(j).slice(0, 300)}`);
  return j;
};
const waitDone = async (id) => {
  for (;;) {
    const s = await (await fetch(`${url}/api/executions/${id}/status`)).json();
    if (s.status !== 'RUNNING') return s;
    await sleep(100);
  }
};

const small = `apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: bench_ui_small, path: bench/ui-small }
workflow:
  - step: start
    tool: { kind: noop }
    next: [ { step: middle } ]
  - step: middle
    tool: { kind: noop }
    next: [ { step: end } ]
  - step: end
    tool: { kind: noop }
`;
// 507 steps: 46 layers of 10 parallel noop steps joined by a fan-in step, plus start and end.
function bigPlaybook(layers = 46, width = 10) {
  const lines = [
    'apiVersion: noetl.io/v2',
    'kind: Playbook',
    'metadata: { name: bench_ui_500, path: bench/ui-500 }',
    'workflow:',
  ];
  const fanOut = (from, targets) => {
    lines.push(
      `  - step: ${from}`,
      '    tool: { kind: noop }',
      '    next:',
      '      spec: { mode: inclusive }',
      '      arcs:',
    );
    for (const t of targets) lines.push(`        - step: ${t}`);
  };
  let prev = 'start';
  for (let l = 0; l < layers; l++) {
    const names = Array.from({ length: width }, (_, i) => `l${l}_s${i}`);
    fanOut(prev, names);
    const join = l === layers - 1 ? 'end' : `join_${l}`;
    for (const n of names)
      lines.push(`  - step: ${n}`, '    tool: { kind: noop }', `    next: [ { step: ${join} } ]`);
    prev = join;
  }
  lines.push('  - step: end', '    tool: { kind: noop }');
  return `${lines.join('\n')}\n`;
}

await post('/api/catalog/register', { content: small });
const smallId = (await post('/api/execute', { path: 'bench/ui-small' })).execution_id;
await waitDone(smallId);
await post('/api/catalog/register', { content: bigPlaybook() });
const t0 = performance.now();
const bigId = (await post('/api/execute', { path: 'bench/ui-500' })).execution_id;
const bigStatus = await waitDone(bigId);
const bigSteps = bigStatus.progress?.completed_steps ?? 0;
console.log(
  `500-step execution ${bigStatus.status} in ${((performance.now() - t0) / 1000).toFixed(1)} s (${bigSteps} steps completed)`,
);

// --- browser --------------------------------------------------------------------------------
// launch() gives the browser a fresh temporary profile, removed on close.
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});
async function timed(path, ready) {
  const out = [];
  for (let r = 0; r < RUNS; r++) {
    const context = await browser.newContext({ viewport: { width: 1366, height: 860 } });
    const page = await context.newPage();
    const start = performance.now();
    await page.goto(url + path, { waitUntil: 'commit' });
    await ready(page);
    out.push(performance.now() - start);
    await context.close();
  }
  return out;
}
const first = await timed('/', (p) => p.locator('.card').first().waitFor());
console.log(`first load of / to a drawn dashboard: ${fmt(first)}`);
const deep = await timed(`/executions/${smallId}`, (p) =>
  p.locator('svg.graph-svg g.node[data-step="end"][data-status="completed"]').waitFor(),
);
console.log(`deep link to an execution to its drawn graph: ${fmt(deep)}`);
const layoutMs = [];
const drawnMs = [];
const big = await timed(`/executions/${bigId}`, async (p) => {
  await p.locator('svg.graph-svg[data-drawn-ms]').waitFor({ timeout: 60_000 });
  await p.waitForFunction(() => document.querySelectorAll('svg.graph-svg g.node').length > 500, null, {
    timeout: 60_000,
  });
  layoutMs.push(Number(await p.locator('svg.graph-svg').getAttribute('data-layout-ms')));
  drawnMs.push(Number(await p.locator('svg.graph-svg').getAttribute('data-drawn-ms')));
});
console.log(`deep link to a ${bigSteps}-step execution to all nodes drawn: ${fmt(big)}`);
console.log(`  of which dagre layout: ${fmt(layoutMs)}`);
console.log(`  of which layout + draw (to the next frame): ${fmt(drawnMs)}`);

// --- event to screen while 100 executions run ----------------------------------------------
const LIVE = arg('--live', 100);
const names = ['start', 'a', 'b', 'c', 'd', 'e', 'end'];
const chain = [
  'apiVersion: noetl.io/v2',
  'kind: Playbook',
  'metadata: { name: bench_ui_live, path: bench/ui-live }',
  'workflow:',
  ...names.flatMap((n, i) => [
    `  - step: ${n}`,
    '    tool: { kind: noop }',
    ...(names[i + 1] ? [`    next: [ { step: ${names[i + 1]} } ]`] : []),
  ]),
  '',
].join('\n');
await post('/api/catalog/register', { content: chain });
// Every data-status change, with the browser's clock (the same host clock as created_at).
const recordChanges = () => {
  window.__changes = [];
  const note = (el) => {
    const status = el.getAttribute('data-status');
    const key = el.getAttribute('data-execution-id') ?? el.getAttribute('data-step');
    if (status && key) window.__changes.push({ key, status, t: Date.now() });
  };
  new MutationObserver((records) => {
    for (const r of records) {
      if (r.type === 'attributes') note(r.target);
      else
        for (const n of r.addedNodes)
          if (n instanceof Element) {
            if (n.hasAttribute('data-status')) note(n);
            for (const el of n.querySelectorAll('[data-status]')) note(el);
          }
    }
  }).observe(document, {
    subtree: true,
    childList: true,
    attributes: true,
    attributeFilter: ['data-status'],
  });
};
const liveContext = await browser.newContext({ viewport: { width: 1366, height: 860 } });
await liveContext.addInitScript(recordChanges);
const listPage = await liveContext.newPage();
await listPage.goto(`${url}/executions`);
await listPage.locator('tr[data-execution-id]').first().waitFor();
const ids = [];
for (let i = 0; i < LIVE; i++) ids.push((await post('/api/execute', { path: 'bench/ui-live' })).execution_id);
// The execution started last is watched on its own page (it runs longest).
const watched = ids[ids.length - 1];
const detailPage = await liveContext.newPage();
await detailPage.goto(`${url}/executions/${watched}`);
await detailPage.locator('svg.graph-svg g.node').first().waitFor({ timeout: 60_000 });
const detailFrom = Date.now();
for (const id of ids) await waitDone(id);
await sleep(1500); // the last changes reach the screen
const listChanges = await listPage.evaluate(() => window.__changes);
const detailChanges = await detailPage.evaluate(() => window.__changes);
// List: a row's first COMPLETED against its playbook.completed event.
const rowSeen = new Map();
for (const c of listChanges) if (c.status === 'COMPLETED' && !rowSeen.has(c.key)) rowSeen.set(c.key, c.t);
const listLat = [];
for (const id of ids) {
  const seen = rowSeen.get(id);
  if (seen === undefined) continue; // not on the first page (50 rows)
  const evs = (await (await fetch(`${url}/api/executions/${id}/events?types=playbook.completed`)).json())
    .events;
  if (evs[0]) listLat.push(seen - Date.parse(evs[0].created_at));
}
// Detail: a node's first `completed` against its command.completed event, for events after the
// page had drawn (earlier ones were read from the log, not streamed).
const nodeSeen = new Map();
for (const c of detailChanges) if (c.status === 'completed' && !nodeSeen.has(c.key)) nodeSeen.set(c.key, c.t);
const detailLat = [];
const watchedEvents = (
  await (await fetch(`${url}/api/executions/${watched}/events?types=command.completed`)).json()
).events;
for (const ev of watchedEvents) {
  const at = Date.parse(ev.created_at);
  const seen = nodeSeen.get(ev.node_name);
  if (at > detailFrom && seen !== undefined) detailLat.push(seen - at);
}
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const lat = (xs) =>
  xs.length
    ? `p50 ${pct(xs, 50).toFixed(0)} ms, p99 ${pct(xs, 99).toFixed(0)} ms (${xs.length} changes)`
    : 'no changes seen';
console.log(`event to screen while ${LIVE} executions run:`);
console.log(`  executions list, row turns COMPLETED: ${lat(listLat)}`);
console.log(`  execution page, node turns completed: ${lat(detailLat)}`);
await liveContext.close();

await browser.close();
child.kill('SIGTERM');
await new Promise((r) => child.once('exit', r));
rmSync(home, { recursive: true, force: true });
