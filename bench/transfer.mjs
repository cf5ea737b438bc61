#!/usr/bin/env node
// Transfer benchmark: 200,000 rows from a paged JSON HTTP API to PostgreSQL with the transfer
// tool, against a plain batched `pg` multi-row insert of the same rows measured in the same run.
//
//   npx tsc -p tsconfig.build.json && node bench/transfer.mjs [--rows 200000] [--chunk 1000] [--rounds 3]
//
// The fake API runs in a child process (this same script with --serve) so the peak RSS reported
// is the transfer's own. Needs the PostgreSQL of the development machines
// (NOETL_TEST_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test).
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const ROWS = opt('rows', 200_000);
const CHUNK = opt('chunk', 1000);
const PAGE = opt('page', 5000);
const ROUNDS = opt('rounds', 3);

function row(i) {
  return {
    id: i + 1,
    name: `user ${i + 1}`,
    email: `user${i + 1}@example.com`,
    score: (i % 1000) / 10,
    created_at: new Date(Date.UTC(2024, 0, 1) + i * 1000).toISOString(),
    active: i % 3 === 0,
  };
}

if (args.includes('--serve')) {
  // The fake API: /rows?page=N&per_page=M -> {data: [...], has_more}
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const page = Number(url.searchParams.get('page') ?? 1);
    const size = Number(url.searchParams.get('per_page') ?? 1000);
    const start = (page - 1) * size;
    const end = Math.min(ROWS, start + size);
    const data = [];
    for (let i = start; i < end; i++) data.push(row(i));
    const body = JSON.stringify({ data, has_more: end < ROWS });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  server.listen(0, '127.0.0.1', () => process.send?.({ port: server.address().port }));
  process.on('disconnect', () => server.close(() => process.exit(0)));
} else {
  await main();
}

async function main() {
  const { defaultRegistry, closeToolResources } = await import('../dist/tools/index.js');
  const { templates } = await import('../dist/template/index.js');
  const url = process.env.NOETL_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const schema = `noetl_bench_${randomBytes(4).toString('hex')}`;
  const child = fork(fileURLToPath(import.meta.url), ['--serve', '--rows', String(ROWS)], {
    stdio: 'inherit',
  });
  const port = await new Promise((resolve) => child.once('message', (m) => resolve(m.port)));
  const api = `http://127.0.0.1:${port}/rows`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  const table = (name) =>
    `CREATE TABLE ${schema}.${name} (id bigint PRIMARY KEY, name text, email text, score double precision, created_at timestamptz, active boolean)`;
  await admin.query(`CREATE SCHEMA ${schema}; ${table('t_transfer')}; ${table('t_baseline')}`);

  const transfer = defaultRegistry().get('transfer');
  const ctx = {
    executionId: 'bench',
    step: 'transfer',
    commandId: 'c',
    label: 'transfer',
    attempt: 1,
    signal: new AbortController().signal,
    templates: templates(),
    services: {},
  };
  const columns = ['id', 'name', 'email', 'score', 'created_at', 'active'];
  // CPU time of this process per run (user + system, ms): the machine's load does not inflate it.
  const cpuMs = { transfer: [], memory: [], fetch: [] };
  const cpuOf = (start) => {
    const d = process.cpuUsage(start);
    return (d.user + d.system) / 1000;
  };

  // Peak RSS sampled while the transfer tool runs (the baseline's phases are not counted).
  let inTransfer = false;
  let peakRss = 0;
  const sampler = setInterval(() => {
    if (inTransfer) peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 10);

  async function runTransfer() {
    await admin.query(`TRUNCATE ${schema}.t_transfer`);
    const started = performance.now();
    const cpu = process.cpuUsage();
    inTransfer = true;
    const out = await transfer.execute(ctx, {
      source: {
        type: 'http',
        url: api,
        data_path: 'data',
        pagination: {
          type: 'page',
          param: 'page',
          size_param: 'per_page',
          size: PAGE,
          has_more_path: 'has_more',
        },
      },
      target: {
        type: 'postgres',
        connection_string: url,
        schema,
        table: 't_transfer',
        mapping: Object.fromEntries(columns.map((c) => [c, c])),
      },
      chunk_size: CHUNK,
    });
    inTransfer = false;
    const ms = performance.now() - started;
    cpuMs.transfer.push(cpuOf(cpu));
    if (out.data.rows_written !== ROWS) throw new Error(`transfer wrote ${out.data.rows_written} rows`);
    return ms;
  }

  // Baselines: plain batched `pg` multi-row INSERTs of CHUNK rows ($n params, one statement per
  // batch, one transaction, one pooled connection), (a) of rows already in memory (insert only),
  // (b) fetching each page from the same API first, as a hand-written script would.
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  const fetchPage = async (page) => (await fetch(`${api}?page=${page}&per_page=${PAGE}`)).json();
  async function insertBatches(client, rows) {
    for (let at = 0; at < rows.length; at += CHUNK) {
      const batch = rows.slice(at, at + CHUNK);
      const values = [];
      const tuples = batch.map((r, i) => {
        for (const c of columns) values.push(r[c]);
        return `(${columns.map((_, j) => `$${i * columns.length + j + 1}`).join(',')})`;
      });
      await client.query(
        `INSERT INTO ${schema}.t_baseline (${columns.join(', ')}) VALUES ${tuples.join(',')}`,
        values,
      );
    }
  }
  async function runBaseline(inMemory) {
    await admin.query(`TRUNCATE ${schema}.t_baseline`);
    let all;
    if (inMemory) {
      all = [];
      for (let page = 1; ; page++) {
        const body = await fetchPage(page);
        all.push(...body.data);
        if (!body.has_more) break;
      }
    }
    const started = performance.now();
    const cpu = process.cpuUsage();
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      if (inMemory) {
        await insertBatches(client, all);
      } else {
        for (let page = 1; ; page++) {
          const body = await fetchPage(page);
          await insertBatches(client, body.data);
          if (!body.has_more) break;
        }
      }
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    const ms = performance.now() - started;
    cpuMs[inMemory ? 'memory' : 'fetch'].push(cpuOf(cpu));
    const { rows } = await admin.query(`SELECT count(*)::int AS n FROM ${schema}.t_baseline`);
    if (rows[0].n !== ROWS) throw new Error(`baseline wrote ${rows[0].n} rows`);
    return ms;
  }

  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  try {
    const rssBefore = process.memoryUsage().rss;
    await runTransfer(); // warm-up (JIT, pool, prepared statements)
    await runBaseline(false);
    const t = [];
    const b = [];
    const m = [];
    // Transfers first: their peak RSS is sampled before any baseline held all rows in memory.
    for (let r = 0; r < ROUNDS; r++) {
      t.push(await runTransfer());
      b.push(await runBaseline(false));
    }
    for (let r = 0; r < ROUNDS; r++) m.push(await runBaseline(true));
    clearInterval(sampler);
    const maxRss = process.resourceUsage().maxRSS * 1024;
    const rate = (xs) => ROWS / (median(xs) / 1000);
    const line = (label, xs, cpu) =>
      console.log(
        `${label.padEnd(40)} ${median(xs).toFixed(0).padStart(6)} ms  ${rate(xs).toFixed(0).padStart(7)} rows/s  cpu ${median(cpu).toFixed(0).padStart(5)} ms`,
      );
    const mb = (n) => `${(n / 1024 / 1024).toFixed(0)} MB`;
    const load = loadavg()[0].toFixed(1);
    console.log(
      `rows ${ROWS}, page ${PAGE}, chunk ${CHUNK}, rounds ${ROUNDS} (median), node ${process.version}, load average ${load}`,
    );
    line('transfer tool (http -> postgres)', t, cpuMs.transfer.slice(1));
    line('baseline: pg insert, rows in memory', m, cpuMs.memory);
    line('baseline: fetch page + pg insert', b, cpuMs.fetch.slice(1));
    console.log(`ratio transfer / insert-only baseline: ${(rate(t) / rate(m)).toFixed(2)}x`);
    console.log(`ratio transfer / fetch+insert baseline: ${(rate(t) / rate(b)).toFixed(2)}x`);
    console.log(
      `RSS: ${mb(rssBefore)} at start, peak ${mb(peakRss)} during the transfers (process maxRSS, in-memory baseline included: ${mb(maxRss)})`,
    );
  } finally {
    clearInterval(sampler);
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
    await pool.end();
    await closeToolResources();
    child.disconnect();
  }
}
