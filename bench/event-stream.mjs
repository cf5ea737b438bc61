#!/usr/bin/env node
// Event to stream latency (issue 13: a page shows a change within 250 ms of its event). An
// embedded server runs N executions at once while a client reads GET /api/events/stream; for each
// event, latency = time the client got it - its created_at (same host clock).
//   npm run build && node bench/event-stream.mjs [--executions 100] [--postgres]
// --postgres stores in the PostgreSQL of NOETL_TEST_DATABASE_URL (a scratch schema) instead of
// PGlite.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const N = arg('--executions', 100);
const POSTGRES = process.argv.includes('--postgres');
const MAIN = fileURLToPath(new URL('../dist/server/main.js', import.meta.url));
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

const home = mkdtempSync(join(tmpdir(), 'noetl-bench-stream-'));
const port = await freePort();
const schema = `bench_stream_${process.pid}`;
const env = { ...process.env, NOETL_HOME: home, NOETL_LOG_LEVEL: 'warn' };
if (POSTGRES) {
  env.NOETL_DATABASE_URL = process.env.NOETL_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  env.NOETL_SCHEMA = schema;
  env.NOETL_ENCRYPTION_KEY ??= (await import('node:crypto')).randomBytes(32).toString('base64');
}
const child = spawn(process.execPath, [MAIN, '--host', '127.0.0.1', '--port', String(port)], {
  env,
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
const post = async (path, body) => {
  const r = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return r.json();
};
await post('/api/catalog/register', {
  content: `apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: stream-bench, path: bench/stream }
workflow:
  - step: start
    tool: { kind: shell, command: "echo a" }
    next: [ second ]
  - step: second
    tool: { kind: shell, command: "echo b" }
`,
});

const latencies = [];
let done = 0;
const controller = new AbortController();
const res = await fetch(`${url}/api/events/stream`, { signal: controller.signal });
const reading = (async () => {
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for await (const chunk of res.body) {
      const now = Date.now();
      buffer += decoder.decode(chunk, { stream: true });
      let cut;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const data = block.split('\n').find((l) => l.startsWith('data: '));
        if (!data) continue;
        const e = JSON.parse(data.slice(6));
        latencies.push(now - Date.parse(e.created_at));
        if (e.event_type === 'playbook.completed' || e.event_type === 'playbook.failed') done++;
      }
      if (done >= N) return;
    }
  } catch {}
})();
const t0 = Date.now();
await Promise.all(Array.from({ length: N }, () => post('/api/execute', { path: 'bench/stream' })));
const deadline = Date.now() + 120_000;
while (done < N && Date.now() < deadline) await sleep(50);
controller.abort();
await reading;
const secs = (Date.now() - t0) / 1000;
console.log(
  `${POSTGRES ? 'PostgreSQL' : 'PGlite'}: ${N} executions in ${secs.toFixed(1)} s, ${latencies.length} events streamed; ` +
    `event to stream p50 ${pct(latencies, 50)} ms, p90 ${pct(latencies, 90)} ms, p99 ${pct(latencies, 99)} ms, max ${Math.max(...latencies)} ms`,
);
child.kill('SIGTERM');
await new Promise((r) => child.once('exit', r));
rmSync(home, { recursive: true, force: true });
if (POSTGRES) {
  const pg = (await import('pg')).default;
  const c = new pg.Client({ connectionString: env.NOETL_DATABASE_URL });
  await c.connect();
  await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await c.end();
}
