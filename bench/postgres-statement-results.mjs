#!/usr/bin/env node
// What NoETL's older per-statement postgres result (`command_<i>` entries, the setting
// NOETL_POSTGRES_STATEMENT_RESULTS) costs: the size of the step data as it is stored (JSON, what
// `call.done` events and the result store hold) and the tool's time, with the setting off (NoETL's
// current shape) and on, measured in the same run on the same queries.
//
//   npm run build && node bench/postgres-statement-results.mjs [--rounds 7]
//
// The last statement's entry shares its rows with the data's `rows` in memory; JSON has no
// sharing, so the stored text holds them twice. Needs the machine's PostgreSQL
// (NOETL_TEST_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test).
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import pg from 'pg';

const args = process.argv.slice(2);
const ROUNDS = (() => {
  const i = args.indexOf('--rounds');
  return i >= 0 ? Number(args[i + 1]) : 7;
})();

const { defaultRegistry, closeToolResources } = await import('../dist/tools/index.js');
const { templates } = await import('../dist/template/index.js');
const url = process.env.NOETL_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = `noetl_bench_${randomBytes(4).toString('hex')}`;
const admin = new pg.Client({ connectionString: url });
await admin.connect();
await admin.query(`CREATE SCHEMA ${schema};
  CREATE TABLE ${schema}.users (id bigint PRIMARY KEY, name text, email text, score double precision,
    created_at timestamptz, active boolean);
  INSERT INTO ${schema}.users SELECT i, 'user ' || i, 'user' || i || '@example.com', (i % 1000) / 10.0,
    timestamptz '2024-01-01' + i * interval '1 second', i % 3 = 0 FROM generate_series(1, 10000) AS i`);

const postgres = defaultRegistry().get('postgres');
const ctx = (setting) => ({
  executionId: 'bench',
  step: 'pg',
  commandId: 'c',
  label: 'pg',
  attempt: 1,
  signal: new AbortController().signal,
  templates: templates(),
  services: { env: { NOETL_POSTGRES_STATEMENT_RESULTS: setting } },
});

const cases = [
  ['SELECT, 1 row', 'SELECT * FROM users WHERE id = 1'],
  ['SELECT, 100 rows', 'SELECT * FROM users ORDER BY id LIMIT 100'],
  ['SELECT, 10,000 rows', 'SELECT * FROM users ORDER BY id'],
  [
    'script: UPDATE; SELECT 100 rows',
    'UPDATE users SET active = active WHERE id <= 10; SELECT * FROM users ORDER BY id LIMIT 100',
  ],
  [
    'script: SELECT 100 rows; SELECT count',
    'SELECT * FROM users ORDER BY id LIMIT 100; SELECT count(*) AS n FROM users',
  ],
  ['UPDATE 10 rows (no rows back)', 'UPDATE users SET active = active WHERE id <= 10'],
];

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

async function measure(setting, query) {
  const times = [];
  let bytes = 0;
  for (let r = 0; r <= ROUNDS; r++) {
    const started = performance.now();
    const out = await postgres.execute(ctx(setting), { connection_string: url, schema, query });
    const text = JSON.stringify(out.data);
    const ms = performance.now() - started;
    if (r > 0) times.push(ms); // round 0 warms the pool and the plan
    bytes = Buffer.byteLength(text);
  }
  return { bytes, ms: median(times) };
}

console.log(`load average at start: ${loadavg()[0].toFixed(2)}; median of ${ROUNDS} rounds after a warm-up`);
console.log('| query | stored bytes, off | stored bytes, on | on / off | time off (tool + JSON) | time on |');
console.log('|---|---|---|---|---|---|');
try {
  for (const [name, query] of cases) {
    const off = await measure('0', query);
    const on = await measure('1', query);
    console.log(
      `| ${name} | ${off.bytes.toLocaleString('en')} | ${on.bytes.toLocaleString('en')} | ${(on.bytes / off.bytes).toFixed(2)}x | ${off.ms.toFixed(2)} ms | ${on.ms.toFixed(2)} ms |`,
    );
  }
} finally {
  console.log(`load average at end: ${loadavg()[0].toFixed(2)}`);
  await closeToolResources();
  await admin.query(`DROP SCHEMA ${schema} CASCADE`);
  await admin.end();
}
