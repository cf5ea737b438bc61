/**
 * Stopping the embedded server (SIGTERM, and SIGKILL) in the middle of executions and starting
 * it again finishes them, with no step completed twice. Runs the built server as users do
 * (`node dist/server/main.js`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const MAIN = fileURLToPath(new URL('../../dist/server/main.js', import.meta.url));
const homes: string[] = [];
const children = new Set<ChildProcess>();

afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  for (const h of homes) rmSync(h, { recursive: true, force: true });
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

async function startProcess(home: string, port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, [MAIN, '--host', '127.0.0.1', '--port', String(port)], {
    env: { ...process.env, NOETL_HOME: home, NOETL_LOG_LEVEL: 'warn', NOETL_EMBEDDED_WORKERS: '2' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.add(child);
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  child.on('exit', () => children.delete(child));
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/api/health`);
      if (r.ok) return child;
    } catch {
      // not up yet
    }
    if (child.exitCode !== null) throw new Error(`server exited ${child.exitCode}: ${stderr}`);
    if (Date.now() > deadline) throw new Error(`server did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function stop(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

const PLAYBOOK = `apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: chain, path: tests/restart/chain }
workflow:
${Array.from({ length: 6 }, (_, i) => {
  const name = i === 0 ? 'start' : `s${i}`;
  const next = i < 5 ? `\n    next: [ s${i + 1} ]` : '';
  return `  - step: ${name}\n    tool: { kind: shell, command: "sleep 0.4; echo ${name}" }${next}`;
}).join('\n')}
`;

async function api<T>(port: number, method: string, path: string, body?: unknown): Promise<T> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    ...(body === undefined
      ? {}
      : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  return (await r.json()) as T;
}

async function waitUntil<T>(fn: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.each(['SIGTERM', 'SIGKILL'] as const)('server stopped with %s mid-execution', (signal) => {
  it('finishes every execution after a restart, each step completed once', async () => {
    const home = mkdtempSync(join(tmpdir(), 'noetl-restart-'));
    homes.push(home);
    const port = await freePort();
    let child = await startProcess(home, port);
    await api(port, 'POST', '/api/catalog/register', { content: PLAYBOOK });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push(
        (await api<{ execution_id: string }>(port, 'POST', '/api/execute', { path: 'tests/restart/chain' }))
          .execution_id,
      );
    }
    // wait until work is under way, then stop the server in the middle of it
    await waitUntil(async () => {
      const s = await api<{ completed_steps: string[] }>(port, 'GET', `/api/executions/${ids[0]}/status`);
      return s.completed_steps.length >= 2 ? true : undefined;
    }, 60_000);
    await stop(child, signal);
    child = await startProcess(home, port);
    for (const id of ids) {
      const status = await waitUntil(async () => {
        const s = await api<{ status: string }>(port, 'GET', `/api/executions/${id}/status`);
        return s.status === 'RUNNING' ? undefined : s.status;
      }, 90_000);
      expect(status).toBe('COMPLETED');
      const { events } = await api<{
        events: { event_type: string; node_name: string; meta: { command_id?: string } | null }[];
      }>(port, 'GET', `/api/executions/${id}/events?limit=10000`);
      const completedPerStep = new Map<string, number>();
      const completedPerCommand = new Map<string, number>();
      for (const e of events) {
        if (e.event_type !== 'command.completed') continue;
        completedPerStep.set(e.node_name, (completedPerStep.get(e.node_name) ?? 0) + 1);
        const cid = e.meta?.command_id ?? '';
        completedPerCommand.set(cid, (completedPerCommand.get(cid) ?? 0) + 1);
      }
      expect([...completedPerStep.keys()].sort()).toEqual(['s1', 's2', 's3', 's4', 's5', 'start']);
      for (const [step, n] of completedPerStep) expect({ step, n }).toEqual({ step, n: 1 });
      for (const n of completedPerCommand.values()) expect(n).toBe(1);
    }
    await stop(child, 'SIGTERM');
  }, 300_000);
});
