/**
 * Issue 10 item 5: masking by key name is a display rule. A step returns `{password}`, the server
 * is killed while a later step runs, and the step after it (decided on the state replayed from
 * the stored log) still reads the real value; the events route shows it masked. Runs the built
 * server as users do (`node dist/server/main.js`).
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

function kill(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

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

const PLAYBOOK = `apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: replay-state, path: tests/replay/state }
workflow:
  - step: start
    tool:
      kind: python
      code: |
        result = {"password": "p-from" + "-step", "api_key": "k-from" + "-step", "plain": "x"}
    next: [ slow ]
  - step: slow
    tool: { kind: shell, command: "sleep 2; echo slow" }
    next: [ reader ]
  - step: reader
    tool:
      kind: python
      input:
        password: "{{ start.password }}"
        api_key: "{{ start.api_key }}"
      code: |
        result = {"password_seen": password + "/" + api_key}
`;

describe('masking by key name is for display only', () => {
  it('a step decided after a restart reads what an earlier step returned; the events route masks it', async () => {
    const home = mkdtempSync(join(tmpdir(), 'noetl-replay-'));
    homes.push(home);
    const port = await freePort();
    let child = await startProcess(home, port);
    await api(port, 'POST', '/api/catalog/register', { content: PLAYBOOK });
    const { execution_id: id } = await api<{ execution_id: string }>(port, 'POST', '/api/execute', {
      path: 'tests/replay/state',
    });
    // `slow` runs: the server dies; the next process decides `reader` from the stored log.
    await waitUntil(async () => {
      const s = await api<{ completed_steps: string[] }>(port, 'GET', `/api/executions/${id}/status`);
      return s.completed_steps.includes('start') ? true : undefined;
    }, 60_000);
    await kill(child);
    child = await startProcess(home, port);
    const status = await waitUntil(async () => {
      const s = await api<{ status: string }>(port, 'GET', `/api/executions/${id}/status`);
      return s.status === 'RUNNING' ? undefined : s.status;
    }, 90_000);
    expect(status).toBe('COMPLETED');
    const result = await api<{ step_results: Record<string, unknown> }>(
      port,
      'GET',
      `/api/executions/${id}/result`,
    );
    const reader = result.step_results['reader'] as Record<string, unknown>;
    expect(reader['data'] ?? reader).toEqual({ password_seen: 'p-from-step/k-from-step' });
    // Display: the events route masks values under secret-looking keys (the code builds the
    // values from pieces, so the playbook's own text does not hold them).
    const { events } = await api<{ events: { event_type: string; node_name: string }[] }>(
      port,
      'GET',
      `/api/executions/${id}/events?limit=1000`,
    );
    const shown = JSON.stringify(events);
    expect(shown).not.toContain('p-from-step');
    expect(shown).not.toContain('k-from-step');
    const done = events.find((e) => e.event_type === 'call.done' && e.node_name === 'start');
    expect(JSON.stringify(done)).toContain('"password":"***"');
    await kill(child);
  }, 240_000);
});
