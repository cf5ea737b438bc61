/**
 * The embedded server's files and disk (issue 10, items 9, 10, 19): what it leaves under
 * NOETL_HOME, how it behaves on a full disk, and how it restarts after a SIGKILL. Runs the built
 * server as users do (`node dist/server/main.js`).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { noetl } from '../helpers/cli.js';

const MAIN = fileURLToPath(new URL('../../dist/server/main.js', import.meta.url));
const homes: string[] = [];
const children = new Set<ChildProcess>();

afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  for (const h of homes) rmSync(h, { recursive: true, force: true });
});

function tempHome(prefix: string): string {
  const home = mkdtempSync(join(tmpdir(), prefix));
  homes.push(home);
  return home;
}

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

interface Started {
  /** The process to signal: the shell's `sleep` when started under a parent that never reaps. */
  readonly child: ChildProcess;
  /** The server's pid. */
  readonly pid: number;
  stderr(): string;
}

function serverEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    NOETL_HOME: home,
    NOETL_LOG_LEVEL: 'warn',
    NOETL_EMBEDDED_WORKERS: '1',
    ...extra,
  };
}

/**
 * Starts `node dist/server/main.js` and waits for /api/health. With `orphanParent` the server's
 * parent is a `sleep` that never reaps it: a killed server stays a zombie, as a detached server
 * does until init gets round to it.
 */
async function startServer(
  home: string,
  port: number,
  options: { orphanParent?: boolean; env?: Record<string, string>; logFile?: string } = {},
): Promise<Started> {
  const args = [MAIN, '--host', '127.0.0.1', '--port', String(port)];
  let child: ChildProcess;
  if (options.orphanParent) {
    child = spawn('sh', ['-c', `"${process.execPath}" "$@" & echo $!; exec sleep 600`, 'sh', ...args], {
      env: serverEnv(home, options.env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } else {
    // As `noetl server start` runs it: stdout appended to a log file under NOETL_HOME when given.
    const log = options.logFile === undefined ? 'ignore' : openSync(options.logFile, 'a');
    try {
      child = spawn(process.execPath, args, {
        env: serverEnv(home, options.env),
        stdio: ['ignore', log, 'pipe'],
      });
    } finally {
      if (typeof log === 'number') closeSync(log);
    }
  }
  children.add(child);
  child.on('exit', () => children.delete(child));
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const pid = options.orphanParent
    ? await new Promise<number>((resolve) =>
        child.stdout?.once('data', (c: Buffer) => resolve(Number(c.toString().trim()))),
      )
    : child.pid!;
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/api/health`);
      if (r.ok) break;
    } catch {
      // not up yet
    }
    if (child.exitCode !== null) throw new Error(`server exited ${child.exitCode}: ${stderr}`);
    if (Date.now() > deadline) throw new Error(`server did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, pid, stderr: () => stderr };
}

function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

describe('restart after SIGKILL (item 19)', () => {
  it('a server started right after another was killed on the same NOETL_HOME starts', async () => {
    const home = tempHome('noetl-sigkill-');
    const port = await freePort();
    const first = await startServer(home, port, { orphanParent: true });
    process.kill(first.pid, 'SIGKILL');
    // The killed server is a zombie now (its parent never reaps it): it holds nothing.
    const second = await startServer(home, port);
    const health = await fetch(`http://127.0.0.1:${port}/api/health`);
    expect(health.status).toBe(200);
    await stopChild(second.child);
    await stopChild(first.child, 'SIGKILL');
  }, 180_000);
});

/** Every entry under `root` (itself included) whose mode lets group or others in. */
function openToOthers(root: string): string[] {
  const found: string[] = [];
  const walk = (path: string): void => {
    const st = lstatSync(path);
    if (st.isSymbolicLink()) return;
    if ((st.mode & 0o077) !== 0) found.push(`${(st.mode & 0o777).toString(8)} ${path}`);
    if (st.isDirectory()) for (const name of readdirSync(path)) walk(join(path, name));
  };
  walk(root);
  return found;
}

/** Sets every mode under `root` as an install made before the fix had them. */
function openUp(root: string): void {
  const walk = (path: string): void => {
    const st = lstatSync(path);
    if (st.isSymbolicLink()) return;
    chmodSync(path, st.isDirectory() ? 0o777 : 0o666);
    if (st.isDirectory()) for (const name of readdirSync(path)) walk(join(path, name));
  };
  walk(root);
}

const SHELL_PLAYBOOK = `apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: files, path: tests/files/hello }
workflow:
  - step: start
    tool: { kind: shell, command: "echo hello" }
`;

async function runOnePlaybook(port: number): Promise<void> {
  const base = `http://127.0.0.1:${port}`;
  const post = async (path: string, body: unknown): Promise<Record<string, unknown>> => {
    const r = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return (await r.json()) as Record<string, unknown>;
  };
  await post('/api/catalog/register', { content: SHELL_PLAYBOOK });
  const { execution_id: id } = await post('/api/execute', { path: 'tests/files/hello' });
  const deadline = Date.now() + 60_000;
  for (;;) {
    const s = (await (await fetch(`${base}/api/executions/${String(id)}/status`)).json()) as {
      status: string;
    };
    if (s.status !== 'RUNNING') {
      expect(s.status).toBe('COMPLETED');
      return;
    }
    if (Date.now() > deadline) throw new Error('execution did not finish');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('files under NOETL_HOME are private (item 9)', () => {
  it('a server started by the CLI leaves no file or directory open to group or others', async () => {
    const root = tempHome('noetl-files-');
    // HOME too: the PGlite template cache (~/.cache/noetl) is made fresh and checked as well.
    const home = join(root, 'noetl-home');
    const cache = join(root, '.cache', 'noetl');
    const port = await freePort();
    const env = {
      HOME: root,
      NOETL_HOME: home,
      NOETL_HOST: '127.0.0.1',
      NOETL_PORT: String(port),
      NOETL_LOG_LEVEL: 'info',
      NOETL_DATABASE_URL: undefined,
      POSTGRES_HOST: undefined,
      NATS_URL: undefined,
      NOETL_SERVER_URL: undefined,
    };
    const started = await noetl(['server', 'start'], { env, timeoutMs: 170_000 });
    expect(started.code, started.stderr).toBe(0);
    try {
      await runOnePlaybook(port);
    } finally {
      const stopped = await noetl(['server', 'stop'], { env });
      expect(stopped.code, stopped.stderr).toBe(0);
    }
    expect(openToOthers(home)).toEqual([]);
    expect(openToOthers(cache)).toEqual([]);
  }, 240_000);

  it('a start fixes the modes an older install left (0666 files, 0777 directories)', async () => {
    const home = tempHome('noetl-files-old-');
    const port = await freePort();
    const first = await startServer(home, port);
    await stopChild(first.child);
    mkdirSync(join(home, 'logs'), { recursive: true });
    writeFileSync(join(home, 'logs', 'server.log'), 'old log\n');
    openUp(home);
    expect(openToOthers(home).length).toBeGreaterThan(900);
    const second = await startServer(home, port);
    try {
      expect(openToOthers(home)).toEqual([]);
    } finally {
      await stopChild(second.child);
    }
  }, 240_000);
});

/** Mounts a tmpfs of `sizeMb` at a new directory; undefined when this machine does not allow it. */
function mountTmpfs(sizeMb: number): string | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'noetl-tmpfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m,mode=0700`, 'tmpfs', dir], {
      stdio: 'pipe',
    });
    return dir;
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
}

/** Writes zeros into `file` until the filesystem refuses: the disk is full. */
function fillDisk(file: string): void {
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(1024 * 1024);
  try {
    for (;;) {
      try {
        writeSync(fd, chunk);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
        // the last partial megabyte: fill it byte-wise in 4 KB steps
        const small = Buffer.alloc(4096);
        for (;;) {
          try {
            writeSync(fd, small);
          } catch {
            return;
          }
        }
      }
    }
  } finally {
    closeSync(fd);
  }
}

interface Reply {
  status: number;
  body: Record<string, unknown>;
}

async function call(port: number, method: string, path: string, body?: unknown): Promise<Reply> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    signal: AbortSignal.timeout(10_000),
    ...(body === undefined
      ? {}
      : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  const text = await r.text();
  return { status: r.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
}

async function waitForStatus(port: number, id: string): Promise<string> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const s = await call(port, 'GET', `/api/executions/${id}/status`);
    if (s.status === 200 && s.body['status'] !== 'RUNNING') return String(s.body['status']);
    if (Date.now() > deadline) throw new Error(`execution ${id} did not finish`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('a full disk (item 10)', () => {
  it('health fails with the reason, writes fail with a code, the server lives and recovers', async (ctx) => {
    const mount = mountTmpfs(100);
    if (mount === undefined) {
      if (process.env['CI'] === 'true') throw new Error('mount -t tmpfs is not permitted: needed in CI');
      console.warn('skipped: mount -t tmpfs is not permitted here (run as root to test a full disk)');
      ctx.skip();
      return;
    }
    let server: Started | undefined;
    try {
      const home = join(mount, 'home');
      mkdirSync(join(home, 'logs'), { recursive: true });
      const port = await freePort();
      server = await startServer(home, port, {
        env: { NOETL_LOG_LEVEL: 'info' },
        logFile: join(home, 'logs', 'server.log'),
      });
      expect((await call(port, 'POST', '/api/catalog/register', { content: SHELL_PLAYBOOK })).status).toBe(
        200,
      );
      const before = await call(port, 'POST', '/api/execute', { path: 'tests/files/hello' });
      expect(before.status).toBe(200);
      expect(await waitForStatus(port, String(before.body['execution_id']))).toBe('COMPLETED');

      fillDisk(join(mount, 'filler'));
      const health = await call(port, 'GET', '/api/health');
      expect(health.status).toBe(503);
      expect(String(health.body['database_error'])).toMatch(/storage full/);
      // Writes until one needs space it cannot have: refused with a code, never a hang or a crash.
      let refused: Reply | undefined;
      for (let i = 0; i < 50 && refused === undefined; i++) {
        const r = await call(port, 'POST', '/api/execute', { path: 'tests/files/hello' });
        if (r.status !== 200) refused = r;
      }
      expect(refused?.status).toBe(503);
      expect(refused?.body).toMatchObject({ code: 'UNAVAILABLE' });
      expect(String(refused?.body['error'])).toMatch(/storage full/);
      // Each refusal logs a warning to the log file on the same full disk: the process lives on.
      for (let i = 0; i < 10; i++) {
        const r = await call(port, 'POST', '/api/execute', { path: 'tests/files/hello' });
        expect(r.status).toBe(503);
      }
      expect((await call(port, 'GET', '/health')).status).toBe(200);
      expect(server.child.exitCode).toBeNull();

      rmSync(join(mount, 'filler'));
      const deadline = Date.now() + 30_000;
      while ((await call(port, 'GET', '/api/health')).status !== 200) {
        if (Date.now() > deadline) throw new Error('health did not recover after space returned');
        await new Promise((r) => setTimeout(r, 200));
      }
      const after = await call(port, 'POST', '/api/execute', { path: 'tests/files/hello' });
      expect(after.status).toBe(200);
      expect(await waitForStatus(port, String(after.body['execution_id']))).toBe('COMPLETED');
    } finally {
      if (server) await stopChild(server.child, 'SIGKILL');
      execFileSync('umount', ['-l', mount]);
      rmSync(mount, { recursive: true, force: true });
    }
  }, 240_000);
});
