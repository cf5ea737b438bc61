// Counts and times the statements a `dist/server/main.js` process runs on PGlite, by statement
// (an `EXECUTE` is counted under the text its `PREPARE` gave, literals as `?`; time includes the
// WAL fsyncs a COMMIT makes, also shown on their own), reads `pg_stat_wal` before the store
// closes, and writes a JSON summary to $PGLITE_STATEMENTS_FILE when the process exits
// (PGLITE_STATEMENTS_SAMPLE=1 keeps the text of each statement's 301st call). Other processes
// that load it count nothing.
//   PGLITE_STATEMENTS_FILE=/tmp/a.json NODE_OPTIONS="--import $PWD/bench/pglite-statements.mjs" \
//     node bench/embedded.mjs --runs 1 --steps 400 --chains 0
// Two runs of different lengths give a step's share, (b - a) / (steps_b - steps_a): after a
// second run with `--runs 3` into /tmp/b.json, `node bench/pglite-statements.mjs /tmp/a.json
// /tmp/b.json 800` prints it. Counts are exact; times move with the machine's load.
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { performance } from 'node:perf_hooks';

const inServer = (process.argv[1] ?? '').endsWith('server/main.js') && process.env.PGLITE_STATEMENTS_FILE;

/** A statement's text in one line, the first 160 characters, its literals as `?`. */
const short = (sql) =>
  sql
    .replace(/\s+/g, ' ')
    .replace(/'(?:[^']|'')*'/g, '?')
    .replace(/\b\d+\b/g, '?')
    .trim()
    .slice(0, 160);

if (inServer) {
  const { PGlite } = await import('@electric-sql/pglite');
  const stats = new Map(); // key -> { n, ms }
  const names = new Map(); // prepared name -> short text
  let fsyncs = 0;
  let fsyncMs = 0;
  const fsyncSamples = [];
  const fsyncSync = fs.fsyncSync;
  fs.fsyncSync = function timedFsyncSync(fd) {
    const t = performance.now();
    try {
      return fsyncSync.call(this, fd);
    } finally {
      fsyncs++;
      const ms = performance.now() - t;
      fsyncMs += ms;
      fsyncSamples.push(ms);
    }
  };
  syncBuiltinESMExports();
  const decoder = new TextDecoder();
  /** The SQL of a simple query ('Q') or a parse ('P') message; undefined for the others. */
  function sqlOf(message) {
    const type = message[0];
    if (type === 0x51) return decoder.decode(message.subarray(5, message.indexOf(0, 5)));
    if (type === 0x50) {
      const nameEnd = message.indexOf(0, 5);
      return decoder.decode(message.subarray(nameEnd + 1, message.indexOf(0, nameEnd + 1)));
    }
    return undefined;
  }
  function keysOf(sql) {
    // One simple query may hold several statements (SAVEPOINT ...; PREPARE ...; RELEASE ...).
    const keys = [];
    for (const part of sql.split(/;\s*(?=[A-Z])/)) {
      const prepare = /^\s*PREPARE (\w+) AS ([\s\S]*)$/.exec(part);
      if (prepare) {
        names.set(prepare[1], short(prepare[2]));
        keys.push(`PREPARE ${short(prepare[2])}`);
        continue;
      }
      const execute = /^\s*EXECUTE (\w+)\(/.exec(part);
      keys.push(execute ? `EXECUTE ${names.get(execute[1]) ?? execute[1]}` : short(part));
    }
    return keys.join(' ;; ');
  }
  const raw = PGlite.prototype.execProtocolRawSync;
  PGlite.prototype.execProtocolRawSync = function countedExecProtocolRawSync(message) {
    const sql = sqlOf(message);
    const t = performance.now();
    try {
      return raw.call(this, message);
    } finally {
      const ms = performance.now() - t;
      const key = sql === undefined ? `(protocol ${String.fromCharCode(message[0])})` : keysOf(sql);
      const s = stats.get(key) ?? { n: 0, ms: 0 };
      if (sql !== undefined && process.env.PGLITE_STATEMENTS_SAMPLE && s.n === 300) s.sample = sql; // the 301st call
      s.n++;
      s.ms += ms;
      stats.set(key, s);
    }
  };
  // The WAL written (pg_stat_wal) is read just before the store closes.
  let wal;
  const close = PGlite.prototype.close;
  PGlite.prototype.close = async function closeAfterWalStats() {
    try {
      const r = await this.query('SELECT wal_records, wal_fpi, wal_bytes FROM pg_stat_wal');
      wal = Object.fromEntries(Object.entries(r.rows[0] ?? {}).map(([k, v]) => [k, Number(v)]));
    } catch {}
    return close.call(this);
  };
  process.on('exit', () => {
    const statements = Object.fromEntries([...stats].sort((a, b) => b[1].ms - a[1].ms));
    fs.writeFileSync(
      process.env.PGLITE_STATEMENTS_FILE,
      JSON.stringify(
        {
          fsyncs,
          fsyncMs,
          fsyncP50: fsyncSamples.sort((x, y) => x - y)[fsyncSamples.length >> 1],
          wal,
          statements,
        },
        null,
        1,
      ),
    );
  });
}

// node bench/pglite-statements.mjs A.json B.json STEPS: per step, B minus A.
if (
  process.argv[1] &&
  import.meta.url.endsWith(process.argv[1].split('/').pop()) &&
  process.argv.length >= 5
) {
  const [a, b] = [process.argv[2], process.argv[3]].map((f) => JSON.parse(fs.readFileSync(f, 'utf8')));
  const steps = Number(process.argv[4]);
  const rows = [];
  let n = 0;
  let ms = 0;
  for (const [key, s] of Object.entries(b.statements)) {
    const before = a.statements[key] ?? { n: 0, ms: 0 };
    const dn = (s.n - before.n) / steps;
    const dms = (s.ms - before.ms) / steps;
    if (dn <= 0.001 && dms <= 0.001) continue;
    rows.push([dms, dn, key]);
    n += dn;
    ms += dms;
  }
  rows.sort((x, y) => y[0] - x[0]);
  console.log(
    `per step: ${n.toFixed(2)} protocol calls, ${ms.toFixed(3)} ms in PGlite; fsync ${((b.fsyncs - a.fsyncs) / steps).toFixed(2)} calls, ${((b.fsyncMs - a.fsyncMs) / steps).toFixed(3)} ms (p50 of a call ${b.fsyncP50?.toFixed(3)} ms)`,
  );
  if (a.wal && b.wal) {
    const per = (k) => ((b.wal[k] - a.wal[k]) / steps).toFixed(1);
    console.log(
      `WAL per step: ${per('wal_records')} records, ${per('wal_fpi')} full-page images, ${per('wal_bytes')} bytes`,
    );
  }
  for (const [dms, dn, key] of rows)
    console.log(`${dms.toFixed(3).padStart(7)} ms ${dn.toFixed(2).padStart(6)}x  ${key.slice(0, 200)}`);
}
