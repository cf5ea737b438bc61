import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { acquireDataDirLock } from './data-dir-lock.js';

const dirs: string[] = [];
const parents: ChildProcess[] = [];

afterEach(() => {
  for (const p of parents.splice(0)) p.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'noetl-lock-'));
  dirs.push(dir);
  return join(dir, 'data');
}

/** A process that is alive (sleeping) and, with `zombie`, the pid of its unreaped dead child. */
function holder(zombie: boolean): Promise<{ pid: number }> {
  // `exec sleep` replaces the shell and never reaps the background child, which exits after the
  // exec: a zombie.
  const script = zombie ? 'sleep 0.2 & echo $!; exec sleep 60' : 'echo $$; exec sleep 60';
  const parent = spawn('sh', ['-c', script], { stdio: ['ignore', 'pipe', 'ignore'] });
  parents.push(parent);
  return new Promise((resolve, reject) => {
    parent.stdout.once('data', (chunk: Buffer) => resolve({ pid: Number(chunk.toString().trim()) }));
    parent.once('error', reject);
  });
}

async function waitZombie(pid: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`${pid} did not become a zombie`);
}

describe.runIf(existsSync('/proc/self/stat'))('data directory lock', () => {
  it('takes over a lock whose holder died and is not reaped yet (a zombie)', async () => {
    const dataDir = tempDataDir();
    const { pid } = await holder(true);
    await waitZombie(pid);
    writeFileSync(`${dataDir}.lock`, `${pid}\n`);
    const lock = acquireDataDirLock(dataDir);
    expect(readFileSync(`${dataDir}.lock`, 'utf8').trim()).toBe(String(process.pid));
    lock.release();
    expect(existsSync(`${dataDir}.lock`)).toBe(false);
  });

  it('refuses a lock whose holder is alive', async () => {
    const dataDir = tempDataDir();
    const { pid } = await holder(false);
    writeFileSync(`${dataDir}.lock`, `${pid}\n`);
    expect(() => acquireDataDirLock(dataDir)).toThrow(`in use by process ${pid}`);
  });

  it('takes over a lock whose holder is gone', () => {
    const dataDir = tempDataDir();
    writeFileSync(`${dataDir}.lock`, '2147483646\n');
    acquireDataDirLock(dataDir).release();
  });
});
