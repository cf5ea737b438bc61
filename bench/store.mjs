#!/usr/bin/env node
// Store benchmark (STYLE.md 21: a program, not a test). Build first: npx tsc -p tsconfig.build.json
//
//   node bench/store.mjs [--runs 3] [--events 2000] [--pg postgres://postgres@127.0.0.1:5432/test]
//
// Prints, for the embedded PGlite store with fsync on: cold init (new data dir, migrations
// included), warm reopen, RSS after open (default 16MB shared_buffers and PGlite's 128MB); then,
// for PGlite with fsync on, PGlite with fsync off and (with --pg) PostgreSQL: the commit floor
// (a bare one-row INSERT, measured in the same process), single-event appends (one transaction
// each, as POST /api/events writes them) and claims; and a crash check: every append
// acknowledged before a SIGKILL is there after reopening. Each measurement runs in a fresh
// child process.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const self = fileURLToPath(import.meta.url);
const dist = process.env.NOETL_STORE_DIST ?? new URL('../dist/store/index.js', import.meta.url).href;
const migrationsDir = fileURLToPath(new URL('../migrations/', import.meta.url));

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];
const mb = (bytes) => Math.round(bytes / 1048576);

async function load() {
  const { openStore } = await import(dist);
  const { SnowflakeIdGenerator, systemClock } = await import(new URL('../shared/index.js', dist).href);
  return { openStore, ids: new SnowflakeIdGenerator(systemClock, 901) };
}

// ---------------------------------------------------------------- child processes
async function childOpen(dataDir, sharedBuffers) {
  const { openStore } = await load();
  const started = performance.now();
  const store = await openStore({ dataDir, sharedBuffers, migrationsDir });
  const openMs = performance.now() - started;
  const rss = process.memoryUsage().rss;
  await store.close();
  return { openMs, rss };
}

async function timed(n, fn) {
  const latencies = [];
  const started = performance.now();
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn(i);
    latencies.push(performance.now() - t);
  }
  const seconds = (performance.now() - started) / 1000;
  return { perSecond: n / seconds, p50: pct(latencies, 0.5), p99: pct(latencies, 0.99) };
}

async function childInsert(target, n, durable) {
  const { openStore, ids } = await load();
  const config = target.startsWith('pg:')
    ? { databaseUrl: target.slice(3), schema: `noetl_bench_${process.pid}`, migrationsDir }
    : { dataDir: target, durable, migrationsDir };
  const store = await openStore(config);
  const schema = store.stats().schema;
  try {
    const executionId = ids.next();
    const event = (eventType) => ({
      executionId,
      eventId: ids.next(),
      eventType,
      nodeName: 'step1',
      meta: { command_id: `${executionId}:step1:1` },
      result: { status: 'COMPLETED', context: { result: { rows: [1, 2, 3], ok: true } } },
    });
    await store.query(`CREATE TABLE IF NOT EXISTS ${schema}.bench_floor (id bigint PRIMARY KEY)`);
    for (let i = 0; i < 200; i++) await store.events.append({ events: [event('warmup')] });
    // the floor: one commit of one bare row, measured in the same process
    const floor = await timed(n, () =>
      store.query(`INSERT INTO ${schema}.bench_floor VALUES ($1)`, [ids.next()]),
    );
    const append = await timed(n, () => store.events.append({ events: [event('call.done')] }));
    // claims: each a transaction (lock, gate, command.claimed event)
    const commands = Array.from({ length: n }, () => ids.next());
    for (let i = 0; i < n; i += 100) {
      const chunk = commands.slice(i, i + 100);
      await store.events.append({
        events: [],
        commands: chunk.map((id) => ({
          commandId: id,
          commandKey: `${executionId}:s:${id}`,
          executionId,
          stepName: 's',
          toolKind: 'noop',
          context: {},
        })),
      });
    }
    const claim = await timed(n, (i) => store.commands.claim(commands[i], 'bench-worker'));
    await store.query(`DROP TABLE ${schema}.bench_floor`);
    return { floor, append, claim };
  } finally {
    if (target.startsWith('pg:')) await store.query(`DROP SCHEMA ${schema} CASCADE`);
    await store.close();
  }
}

async function childCrash(dataDir) {
  const { openStore, ids } = await load();
  const store = await openStore({ dataDir, migrationsDir });
  const executionId = '1';
  process.stdout.write('ready\n');
  for (;;) {
    const eventId = ids.next();
    await store.events.append({ events: [{ executionId, eventId, eventType: 'call.done' }] });
    process.stdout.write(`${eventId}\n`); // acknowledged: must survive the kill
  }
}

// ---------------------------------------------------------------- parent
function runChild(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [self, '--child', ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`child ${args} exit ${code}`)),
    );
  });
}

async function crashCheck() {
  const dir = mkdtempSync(join(tmpdir(), 'noetl-bench-crash-'));
  const dataDir = join(dir, 'data');
  try {
    const acked = [];
    await new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [self, '--child', 'crash', dataDir], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let buf = '';
      child.stdout.on('data', (d) => {
        buf += d;
        const lines = buf.split('\n');
        buf = lines.pop() ?? '';
        for (const line of lines) if (line !== 'ready') acked.push(line);
        if (acked.length >= 500 && !child.killed) child.kill('SIGKILL');
      });
      child.on('exit', () => resolve());
      child.on('error', reject);
    });
    const { openStore } = await load();
    const store = await openStore({ dataDir, migrationsDir });
    const stored = new Set((await store.events.list('1')).map((e) => e.eventId));
    await store.close();
    const lost = acked.filter((id) => !stored.has(id)).length;
    return { acked: acked.length, stored: stored.size, lost };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main() {
  const runs = Number(arg('runs', '3'));
  const n = Number(arg('events', '2000'));
  const dir = mkdtempSync(join(tmpdir(), 'noetl-bench-store-'));
  const line = (label, value) => console.log(`${label.padEnd(52)} ${value}`);
  try {
    console.log(`PGlite store, fsync on, node ${process.version}, ${runs} runs (median)`);
    const cold = [];
    for (let i = 0; i < runs; i++) cold.push(await runChild(['open', join(dir, `cold-${i}`), '16MB']));
    line('cold init (new data dir + migrations)', `${median(cold.map((r) => r.openMs)).toFixed(0)} ms`);
    line('  RSS right after cold init', `${mb(median(cold.map((r) => r.rss)))} MB`);
    const warm = [];
    for (let i = 0; i < runs; i++) warm.push(await runChild(['open', join(dir, 'cold-0'), '16MB']));
    line('warm reopen', `${median(warm.map((r) => r.openMs)).toFixed(0)} ms`);
    line('  RSS after warm reopen (shared_buffers 16MB)', `${mb(median(warm.map((r) => r.rss)))} MB`);
    const big = [];
    for (let i = 0; i < runs; i++) big.push(await runChild(['open', join(dir, 'cold-0'), '128MB']));
    line('  RSS after warm reopen (shared_buffers 128MB)', `${mb(median(big.map((r) => r.rss)))} MB`);

    const configs = [
      ['PGlite, fsync on', [join(dir, 'cold-0'), String(n), 'true']],
      ['PGlite, fsync off', [join(dir, 'cold-0'), String(n), 'false']],
    ];
    if (arg('pg')) configs.push(['PostgreSQL', [`pg:${arg('pg')}`, String(n), 'true']]);
    for (const [label, args] of configs) {
      const results = [];
      for (let i = 0; i < runs; i++) results.push(await runChild(['insert', ...args]));
      for (const [key, what] of [
        ['floor', 'floor (bare 1-row INSERT)'],
        ['append', 'append 1 event per transaction'],
        ['claim', 'claim a command'],
      ]) {
        line(`${label}: ${what}`, fmtRate(medianRate(results.map((r) => r[key]))));
      }
    }
    const crash = await crashCheck();
    line('SIGKILL during appends: acknowledged / lost', `${crash.acked} / ${crash.lost}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function medianRate(rs) {
  return {
    perSecond: median(rs.map((r) => r.perSecond)),
    p50: median(rs.map((r) => r.p50)),
    p99: median(rs.map((r) => r.p99)),
  };
}

function fmtRate(r) {
  return `${r.perSecond.toFixed(0)} events/s  p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms`;
}

if (process.argv[2] === '--child') {
  const [mode, target, a, b] = process.argv.slice(3);
  const result =
    mode === 'open'
      ? await childOpen(target, a)
      : mode === 'insert'
        ? await childInsert(target, Number(a), b === 'true')
        : await childCrash(target);
  process.stdout.write(JSON.stringify(result));
} else {
  await main();
}
