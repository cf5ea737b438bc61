// A throwaway NOETL_HOME for CLI process tests, and the guarantee that no server or worker the
// CLI started outlives the test file (STYLE.md 19).
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CliResult } from './cli.js';

export function tempHome(prefix = 'noetl-cli-home-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** The pids recorded in the PID files of `home` (JSON or a bare number). */
export function recordedPids(home: string): number[] {
  let files: string[];
  try {
    files = readdirSync(home).filter((f) => /^noetl_(server|worker_.+)\.pid$/.test(f));
  } catch {
    return [];
  }
  const pids: number[] = [];
  for (const f of files) {
    const text = readFileSync(join(home, f), 'utf8').trim();
    const pid = /^\d+$/.test(text) ? Number(text) : (JSON.parse(text) as { pid?: number }).pid;
    if (typeof pid === 'number') pids.push(pid);
  }
  return pids;
}

/** True while `pid` runs; a zombie (exited, not yet reaped by init) counts as gone. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] !== 'Z';
  } catch {
    return true;
  }
}

/** SIGKILLs whatever the PID files of `home` still name, then removes `home`. */
export function killLeftovers(home: string, extraPids: readonly number[] = []): void {
  for (const pid of [...recordedPids(home), ...extraPids]) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  rmSync(home, { recursive: true, force: true });
}

/** Parses a command's JSON stdout, with its output in the message when it is not JSON. */
export function json<T = Record<string, unknown>>(r: CliResult): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`not JSON (exit ${r.code}):\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  }
}

/** Lines of stderr without blank ones. */
export function errLines(r: CliResult): string[] {
  return r.stderr.split('\n').filter((l) => l.trim() !== '');
}

/** A command's output for an assertion message. */
export function show(r: CliResult): string {
  return `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
}
