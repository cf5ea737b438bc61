import { spawn } from 'node:child_process';
import { CancelledError, TimeoutError, ToolError } from '../shared/index.js';

/** One child process run by the python and shell tools. */
export interface ProcessRequest {
  readonly command: string;
  readonly args: readonly string[];
  readonly input?: string;
  readonly cwd?: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly timeoutMs?: number;
  readonly signal: AbortSignal;
  /** Tool kind, for messages. */
  readonly kind: string;
}

export interface ProcessResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
  /** Signal that ended the process, when it did not exit by itself. */
  readonly exitSignal?: string;
}

const KILL_GRACE_MS = 2000;
const DRAIN_MS = 200;

/**
 * Runs a process in its own process group so a timeout or cancellation kills its children too
 * (a `bash -c 'a; sleep 100'` would otherwise leave `sleep` holding the output pipes open).
 */
export function runProcess(req: ProcessRequest): Promise<ProcessResult> {
  if (req.signal.aborted) return Promise.reject(new CancelledError());
  return new Promise<ProcessResult>((resolve, reject) => {
    const child = spawn(req.command, [...req.args], {
      cwd: req.cwd,
      env: req.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let ended: 'timeout' | 'cancelled' | undefined;
    let settled = false;
    let killTimer: NodeJS.Timeout | undefined;
    let drainTimer: NodeJS.Timeout | undefined;

    const killGroup = (sig: NodeJS.Signals): void => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, sig);
      } catch {
        // already gone
      }
    };
    const stop = (why: 'timeout' | 'cancelled'): void => {
      if (ended !== undefined || settled) return;
      ended = why;
      killGroup('SIGTERM');
      killTimer = setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS);
      killTimer.unref();
    };
    const timer = req.timeoutMs === undefined ? undefined : setTimeout(() => stop('timeout'), req.timeoutMs);
    const onAbort = (): void => stop('cancelled');
    req.signal.addEventListener('abort', onAbort, { once: true });

    const finish = (): void => {
      settled = true;
      if (timer) clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      if (drainTimer) clearTimeout(drainTimer);
      req.signal.removeEventListener('abort', onAbort);
    };

    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.stdin.on('error', () => undefined); // EPIPE when the process does not read its input
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (settled) return;
      finish();
      const message =
        e.code === 'ENOENT'
          ? `${req.kind}: executable not found: ${req.command}`
          : `${req.kind}: cannot start ${req.command}: ${e.message}`;
      reject(new ToolError(message, { cause: e, details: { command: req.command } }));
    });
    // A background job (`cmd &`) may keep the output pipes open after the process exits: stop
    // waiting for it shortly after the exit.
    child.on('exit', () => {
      drainTimer = setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
      }, DRAIN_MS);
      drainTimer.unref();
    });
    child.on('close', (code, sig) => {
      if (settled) return;
      finish();
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      if (ended === 'cancelled') {
        reject(new CancelledError(`${req.kind}: cancelled`));
        return;
      }
      if (ended === 'timeout') {
        const seconds = (req.timeoutMs ?? 0) / 1000;
        reject(
          new TimeoutError(`${req.kind}: timed out after ${seconds}s`, {
            details: { timeout_seconds: seconds, data: { stdout, stderr } },
          }),
        );
        return;
      }
      resolve({
        stdout,
        stderr,
        exitCode: code ?? 128,
        ...(sig ? { exitSignal: sig } : {}),
      });
    });
    child.stdin.end(req.input ?? '');
  });
}

/** The host environment overlaid with a tool's `env` map. */
export function mergeEnv(
  base: Readonly<Record<string, string | undefined>>,
  extra: Readonly<Record<string, string>> | undefined,
): Record<string, string | undefined> {
  return extra ? { ...base, ...extra } : { ...base };
}
