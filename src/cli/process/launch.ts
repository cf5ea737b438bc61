import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, fstatSync, openSync } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ERROR_CODES, NoetlError, type ErrorCode } from '../../shared/index.js';
import type { Env } from '../cli-config.js';
import { isAlive, type ProcessKind } from './pid-file.js';

/** The process entry points the CLI starts (DESIGN.md 1): exactly what containers run. */
export function entryPoint(kind: ProcessKind): string {
  const rel = kind === 'server' ? '../../server/main.js' : '../../worker/main.js';
  return fileURLToPath(new URL(rel, import.meta.url));
}

export interface LaunchSpec {
  readonly kind: ProcessKind;
  readonly args: readonly string[];
  /** The child's whole environment. */
  readonly env: Env;
  readonly logFile: string;
}

export interface Launched {
  readonly child: ChildProcess;
  /** Size of the log before the start: the tail shown on failure begins here. */
  readonly logOffset: number;
  /** Resolves when the child exits, with its exit code (or the signal that ended it). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function exitedPromise(child: ChildProcess): Launched['exited'] {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve({ code: child.exitCode, signal: child.signalCode });
      return;
    }
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

/**
 * Starts `node <entry> args` in its own session (it outlives the CLI), stdout and stderr
 * appended to the log file.
 */
export async function launchDetached(spec: LaunchSpec): Promise<Launched> {
  // Private, as everything under NOETL_HOME (the server makes older files private on start).
  await mkdir(dirname(spec.logFile), { recursive: true, mode: 0o700 });
  const fd = openSync(spec.logFile, 'a', 0o600);
  let logOffset: number;
  let child: ChildProcess;
  try {
    logOffset = fstatSync(fd).size;
    child = spawn(process.execPath, [entryPoint(spec.kind), ...spec.args], {
      detached: true,
      stdio: ['ignore', fd, fd],
      env: { ...spec.env },
    });
  } finally {
    closeSync(fd);
  }
  const exited = exitedPromise(child);
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  return { child, logOffset, exited };
}

/** Starts the entry point attached to this terminal (`--foreground`). */
export async function launchAttached(spec: Omit<LaunchSpec, 'logFile'>): Promise<Launched> {
  const child = spawn(process.execPath, [entryPoint(spec.kind), ...spec.args], {
    stdio: 'inherit',
    env: { ...spec.env },
  });
  const exited = exitedPromise(child);
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  return { child, logOffset: 0, exited };
}

export type StartOutcome =
  | { readonly kind: 'healthy' }
  | { readonly kind: 'exited'; readonly code: number | null; readonly signal: NodeJS.Signals | null }
  | { readonly kind: 'timeout' }
  | { readonly kind: 'interrupted' };

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** GET `url`; true on a 2xx answer within a second. */
export async function probe(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

/** Polls `healthUrl` until it answers 2xx, the child exits, the time is up or Ctrl-C. */
export async function waitHealthy(
  launched: Launched,
  healthUrl: string,
  timeoutMs: number,
): Promise<StartOutcome> {
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  void launched.exited.then((e) => (exit = e));
  let interrupted = false;
  const onSigint = (): void => {
    interrupted = true;
  };
  process.on('SIGINT', onSigint);
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (exit) return { kind: 'exited', ...exit };
      if (interrupted) return { kind: 'interrupted' };
      if (await probe(healthUrl)) return { kind: 'healthy' };
      if (Date.now() > deadline) return { kind: 'timeout' };
      await sleep(200);
    }
  } finally {
    process.off('SIGINT', onSigint);
  }
}

/** Stops a child that did not come up: SIGTERM, then SIGKILL after 5 s. */
export async function killChild(launched: Launched): Promise<void> {
  const pid = launched.child.pid;
  if (pid === undefined || !isAlive(pid)) return;
  launched.child.kill('SIGTERM');
  const gone = await Promise.race([launched.exited.then(() => true), sleep(5000).then(() => false)]);
  if (!gone) {
    launched.child.kill('SIGKILL');
    await launched.exited;
  }
}

/** One log line for a human: pino JSON becomes `level: msg (err)`. */
function readable(line: string): string {
  if (line.startsWith('{')) {
    try {
      const rec = JSON.parse(line) as Record<string, unknown>;
      if (typeof rec['msg'] === 'string') {
        const level = typeof rec['level'] === 'string' ? rec['level'] : 'log';
        const err = typeof rec['err'] === 'string' ? `: ${rec['err']}` : '';
        return `${level}: ${rec['msg']}${err}`.slice(0, 300);
      }
    } catch {
      // not JSON after all
    }
  }
  return line.slice(0, 300);
}

/** The last `count` lines written to the log since `offset`. */
export async function logTail(file: string, offset: number, count = 15): Promise<string[]> {
  let text = '';
  try {
    const handle = await open(file, 'r');
    try {
      const { size } = await handle.stat();
      const start = Math.max(offset, size - 64 * 1024);
      const buf = Buffer.alloc(size - start);
      await handle.read(buf, 0, buf.length, start);
      text = buf.toString('utf8');
    } finally {
      await handle.close();
    }
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.includes('--trace-warnings'))
    .slice(-count)
    .map(readable);
}

/** The `error[CODE]: message` line an entry point printed before it exited, if any. */
export function entryError(lines: readonly string[]): { code: ErrorCode; message: string } | undefined {
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = /^error\[([A-Z_]+)\]: (.*)$/.exec(lines[i] ?? '');
    const code = ERROR_CODES.find((c) => c === m?.[1]);
    if (m && code) return { code, message: m[2] ?? '' };
  }
  return undefined;
}

/** The error of a start that did not reach healthy, with the log tail for the terminal. */
export async function startFailure(
  what: string,
  outcome: Exclude<StartOutcome, { kind: 'healthy' }>,
  logFile: string,
  logOffset: number,
  timeoutMs: number,
): Promise<{ error: NoetlError; tail: string[] }> {
  const tail = await logTail(logFile, logOffset);
  const hint = `full log: ${logFile}`;
  switch (outcome.kind) {
    case 'exited': {
      const reported = entryError(tail);
      const how = outcome.signal ? `signal ${outcome.signal}` : `exit code ${outcome.code ?? '?'}`;
      const error = reported
        ? new NoetlError(reported.code, `${what} exited during start-up: ${reported.message}`, {
            details: { hint },
          })
        : new NoetlError('INTERNAL', `${what} exited during start-up (${how})`, { details: { hint } });
      return { error, tail: reported ? [] : tail };
    }
    case 'timeout':
      return {
        error: new NoetlError(
          'INTERNAL',
          `${what} did not become healthy within ${timeoutMs / 1000}s (stopped it)`,
          {
            details: { hint: `${hint}; a slow first start may need --timeout` },
          },
        ),
        tail,
      };
    case 'interrupted':
      return { error: new NoetlError('CANCELLED', `interrupted: ${what} stopped`), tail: [] };
  }
}
