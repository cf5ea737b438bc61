/**
 * Issue 17: the embedded server commits several callers' writes in one PGlite transaction (group
 * commit, src/store/pglite/pglite-db.ts) and its workers reach the API in-process. Neither may
 * weaken durability. The built server (`npm run build` first) runs noop chains side by side, so
 * their commits share flushes, while this test follows every event on `/api/events/stream` and
 * posts events of its own; the server is killed with SIGKILL mid-run and started again on the
 * same data. Every event the stream showed and every post answered 200 is in the log, and every
 * chain finishes with each of its steps completed exactly once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';

const MAIN = fileURLToPath(new URL('../../dist/server/main.js', import.meta.url));
const CHAINS = 4;
const STEPS = 120;
const children = new Set<ChildProcess>();
const home = mkdtempSync(join(tmpdir(), 'noetl-embedded-kill-'));

afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(home, { recursive: true, force: true });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function startServer(port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, [MAIN, '--host', '127.0.0.1', '--port', String(port)], {
    env: { ...process.env, NOETL_HOME: home, NOETL_LOG_LEVEL: 'error', NOETL_EMBEDDED_WORKERS: '4' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.add(child);
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  child.on('exit', () => children.delete(child));
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/api/health`)).ok) return child;
    } catch {
      // not up yet
    }
    if (child.exitCode !== null) throw new Error(`server exited ${child.exitCode}: ${stderr}`);
    if (Date.now() > deadline) throw new Error(`server did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function api<T>(port: number, method: string, path: string, body?: unknown): Promise<T> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    ...(body === undefined
      ? {}
      : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  if (!r.ok) throw new Error(`${method} ${path}: HTTP ${r.status} ${await r.text()}`);
  return (await r.json()) as T;
}

/** Follows `/api/events/stream`: every event id it delivers, and the step of each completion. */
function follow(port: number): { ids: Set<string>; completed: () => number; close: () => void } {
  const ids = new Set<string>();
  let completed = 0;
  const req = http.get(`http://127.0.0.1:${port}/api/events/stream`, (res) => {
    let buf = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      buf += chunk;
      let end: number;
      while ((end = buf.indexOf('\n\n')) >= 0) {
        const message = buf.slice(0, end);
        buf = buf.slice(end + 2);
        const id = /^id: (\d+)$/m.exec(message)?.[1];
        if (id === undefined) continue;
        ids.add(id);
        if (/^event: command\.completed$/m.test(message)) completed++;
      }
    });
    res.on('error', () => undefined); // the kill cuts it
  });
  req.on('error', () => undefined);
  return { ids, completed: () => completed, close: () => req.destroy() };
}

function chain(n: number): string {
  const steps: string[] = [];
  for (let i = 0; i < n; i++) {
    const step = i === 0 ? 'start' : `s${i}`;
    steps.push(`  - step: ${step}\n    tool: { kind: noop }${i < n - 1 ? `\n    next: [ s${i + 1} ]` : ''}`);
  }
  return `apiVersion: noetl.io/v2\nkind: Playbook\nmetadata: { name: kill_chain, path: tests/kill/chain }\nworkflow:\n${steps.join('\n')}\n`;
}

interface LoggedEvent {
  readonly event_id: string;
  readonly event_type: string;
  readonly node_name: string;
  readonly meta?: { readonly command_id?: string } | null;
}

it('loses no acknowledged event to a SIGKILL and finishes every step exactly once', async () => {
  const port = await freePort();
  let server = await startServer(port);
  await api(port, 'POST', '/api/catalog/register', { content: chain(STEPS) });
  const stream = follow(port);
  // the stream knows where "now" is before the chains start
  await new Promise((r) => setTimeout(r, 300));
  const executions = await Promise.all(
    Array.from(
      { length: CHAINS },
      async () =>
        (await api<{ execution_id: string }>(port, 'POST', '/api/execute', { path: 'tests/kill/chain' }))
          .execution_id,
    ),
  );
  // Posts of our own, answered 200 or not, beside the chains' own writes until the kill.
  const acked = new Map<string, string>();
  let posting = true;
  const posters = Array.from({ length: 2 }, async (_, p) => {
    for (let i = 0; posting; i++) {
      const executionId = executions[(i + p) % CHAINS]!;
      try {
        const r = await api<{ event_id: string }>(port, 'POST', '/api/events', {
          execution_id: executionId,
          step: 'start',
          event_type: 'command.heartbeat',
          payload: { note: `poster ${p} #${i}` },
        });
        acked.set(r.event_id, executionId);
      } catch {
        return; // the kill
      }
    }
  });
  // Mid-run: a third of the steps done.
  const deadline = Date.now() + 60_000;
  while (stream.completed() < (CHAINS * STEPS) / 3) {
    if (Date.now() > deadline) throw new Error(`only ${stream.completed()} steps completed in 60 s`);
    await new Promise((r) => setTimeout(r, 5));
  }
  await new Promise<void>((resolve) => {
    server.once('exit', () => resolve());
    server.kill('SIGKILL');
  });
  posting = false;
  await Promise.all(posters);
  stream.close();
  const seenCompleted = stream.completed();
  expect(seenCompleted).toBeLessThan(CHAINS * STEPS); // the kill came mid-run
  expect(acked.size).toBeGreaterThan(0);

  server = await startServer(port);
  const logged = new Map<string, LoggedEvent[]>();
  const readLog = async (id: string): Promise<LoggedEvent[]> => {
    const all: LoggedEvent[] = [];
    for (;;) {
      const after = all.length > 0 ? `&after=${all[all.length - 1]!.event_id}` : '';
      const page = await api<{ events: LoggedEvent[] }>(
        port,
        'GET',
        `/api/executions/${id}/events?limit=10000${after}`,
      );
      all.push(...page.events);
      if (page.events.length < 10000) return all;
    }
  };
  const stored = new Set<string>();
  for (const id of executions) for (const e of await readLog(id)) stored.add(e.event_id);
  const lostSeen = [...stream.ids].filter((id) => !stored.has(id));
  const lostAcked = [...acked.keys()].filter((id) => !stored.has(id));
  expect({ lostSeen, lostAcked }).toEqual({ lostSeen: [], lostAcked: [] });

  // The chains go on from where the log stands, each step completed once.
  for (const id of executions) {
    const end = Date.now() + 120_000;
    for (;;) {
      const s = await api<{ status: string }>(port, 'GET', `/api/executions/${id}/status`);
      if (s.status !== 'RUNNING') {
        expect(s.status).toBe('COMPLETED');
        break;
      }
      if (Date.now() > end) throw new Error(`execution ${id} did not finish after the restart`);
      await new Promise((r) => setTimeout(r, 100));
    }
    logged.set(id, await readLog(id));
  }
  for (const [id, events] of logged) {
    const completions = new Map<string, number>();
    const byCommand = new Map<string, number>();
    for (const e of events) {
      if (e.event_type !== 'command.completed') continue;
      completions.set(e.node_name, (completions.get(e.node_name) ?? 0) + 1);
      const cid = e.meta?.command_id ?? '';
      byCommand.set(cid, (byCommand.get(cid) ?? 0) + 1);
    }
    expect({ id, steps: completions.size }).toEqual({ id, steps: STEPS });
    expect([...completions.values()].every((n) => n === 1)).toBe(true);
    expect([...byCommand.values()].every((n) => n === 1)).toBe(true);
  }
  server.kill('SIGTERM');
}, 300_000);
