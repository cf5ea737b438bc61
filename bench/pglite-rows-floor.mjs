#!/usr/bin/env node
// What PGlite (fsync on, the server's settings and schema) costs to commit the rows one chain step
// must write (issue 17), with nothing of ours around it: the five events a step adds
// (command.started, call.done, command.completed, step.enter, command.issued) and the claim of the
// next command (command.claimed), the next command's row inserted claimed, the finished command's
// row and the execution row updated: one statement with literal-free parameters in one
// transaction. Beside it, in turn, the embedded bench's floor: a single-row INSERT commit on the
// same store. Medians; the ratio bounds from below what `bench/embedded.mjs` can show against
// its floor while a step writes the contract's events as rows of `event`.
//   npm run build && node bench/pglite-rows-floor.mjs [--steps 600] [--rounds 3] [--no-indexes]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const STEPS = arg('--steps', 600);
const ROUNDS = arg('--rounds', 3);
// --no-indexes: the same with every secondary index of event, command and execution dropped
// (primary keys and unique constraints kept): how much of the bound the indexes make.
const NO_INDEXES = process.argv.includes('--no-indexes');
const DIST = fileURLToPath(new URL('../dist', import.meta.url));
const MIGRATIONS = fileURLToPath(new URL('../migrations', import.meta.url));
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const { openStore } = await import(pathToFileURL(join(DIST, 'store', 'index.js')).href);

const dir = mkdtempSync(join(tmpdir(), 'noetl-bench-rows-floor-'));
const store = await openStore({ dataDir: join(dir, 'data'), migrationsDir: MIGRATIONS });
const s = store.stats().schema;
await store.query(`CREATE TABLE ${s}.bench_floor (id bigint PRIMARY KEY)`);
if (NO_INDEXES) {
  const { rows } = await store.query(
    `SELECT i.indexname FROM pg_indexes i WHERE i.schemaname = '${s}'
       AND i.tablename IN ('event', 'command', 'execution')
       AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)`,
  );
  for (const r of rows) await store.query(`DROP INDEX ${s}."${r.indexname}"`);
  console.log(`dropped ${rows.length} indexes: ${rows.map((r) => r.indexname).join(', ')}`);
}
const EXEC = '1000';
await store.query(`INSERT INTO ${s}.execution (execution_id, path) VALUES (${EXEC}, 'bench/rows')`);

// One step's rows, as JSON parameters.
const STEP_SQL = `
WITH ev AS (
  INSERT INTO ${s}.event (execution_id, event_id, event_type, node_name, status, result, meta,
    command_key, worker_id)
  SELECT $1::bigint, (e->>'event_id')::bigint, e->>'event_type', e->>'node_name', e->>'status',
    NULLIF(e->'result', 'null'::jsonb), e->'meta', e->>'command_key', e->>'worker_id'
  FROM jsonb_array_elements($2::jsonb) AS e
  RETURNING 1
), done AS (
  UPDATE ${s}.command SET status = 'COMPLETED', completed_at = now(), latest_event_id = $4::bigint,
    updated_at = now()
  WHERE command_id = $3::bigint
  RETURNING 1
), next AS (
  INSERT INTO ${s}.command (command_id, command_key, event_id, execution_id, step_name, tool_kind,
    status, worker_id, claimed_at, context, latest_event_id)
  VALUES ($5::bigint, $6, $5::bigint, $1::bigint, $7, 'noop', 'CLAIMED', 'w1', now(), $8::jsonb,
    $4::bigint)
  RETURNING 1
)
UPDATE ${s}.execution SET event_count = event_count + 6, updated_at = now()
WHERE execution_id = $1::bigint`;

let id = 10n ** 15n;
let prev = '0';
let prevKey = '';
function stepParams(i) {
  const next = String(++id);
  const key = `${EXEC}:s${i + 1}:${next}`;
  const result = { status: 'COMPLETED', context: { data: { step: `s${i}`, n: i } } };
  const by = (k) => ({ command_id: k, worker_id: 'w1' });
  const events = [
    ['command.started', 'RUNNING', null, prevKey],
    ['call.done', 'COMPLETED', result, prevKey],
    ['command.completed', 'COMPLETED', result, prevKey],
    ['step.enter', 'RUNNING', null, null],
    ['command.issued', 'PENDING', null, key],
    ['command.claimed', 'RUNNING', null, key],
  ].map(([type, status, res, k]) => ({
    event_id: String(++id),
    event_type: type,
    node_name: `s${i}`,
    status,
    result: res,
    meta: k ? by(k) : {},
    command_key: i === 0 && k === prevKey ? null : k,
    worker_id: 'w1',
  }));
  const params = [
    EXEC,
    JSON.stringify(events),
    prev,
    String(id),
    next,
    key,
    `s${i + 1}`,
    JSON.stringify({ args: { n: i }, tool: { kind: 'noop' } }),
  ];
  prev = next;
  prevKey = key;
  return params;
}

const rounds = [];
let floorId = 0;
for (let r = 0; r < ROUNDS + 1; r++) {
  const floor = [];
  const rows = [];
  for (let i = 0; i < STEPS; i++) {
    let t = performance.now();
    await store.query(`INSERT INTO ${s}.bench_floor VALUES ($1)`, [String(++floorId)]);
    floor.push(performance.now() - t);
    const params = stepParams(r * STEPS + i);
    t = performance.now();
    await store.query(STEP_SQL, params); // one statement: its own transaction
    rows.push(performance.now() - t);
  }
  if (r === 0) continue; // warm-up
  const f = median(floor);
  const w = median(rows);
  rounds.push({ f, w });
  console.log(
    `round ${r}: floor ${f.toFixed(3)} ms, a step's rows ${w.toFixed(3)} ms = ${(w / f).toFixed(2)}x`,
  );
}
const f = median(rounds.map((x) => x.f));
const w = median(rounds.map((x) => x.w));
console.log(
  `\nmedian of ${ROUNDS} rounds of ${STEPS}: floor (single-row INSERT commit) ${f.toFixed(3)} ms; ` +
    `a chain step's rows in one statement and transaction ${w.toFixed(3)} ms = ${(w / f).toFixed(2)}x the floor`,
);
await store.close();
rmSync(dir, { recursive: true, force: true });
