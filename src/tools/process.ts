import { spawn } from 'node:child_process';
import { CancelledError, TimeoutError, ToolError } from '../shared/index.js';
import type { OutputSink } from './output.js';

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
  /** Receives the process's stdout and stderr as they arrive (the step's kept output). */
  readonly output?: OutputSink;
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

    const sink = req.output;
    child.stdout.on('data', (chunk: Buffer) => {
      out.push(chunk);
      sink?.write('stdout', chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err.push(chunk);
      sink?.write('stderr', chunk);
    });
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

type Env = Readonly<Record<string, string | undefined>>;

/**
 * noetl's own secrets: never in a tool's environment, whatever the mode (a playbook's `env` map
 * may still set a variable of the same name on purpose).
 */
export const NOETL_SECRET_ENV: readonly string[] = [
  'NOETL_API_TOKEN',
  'NOETL_INTERNAL_API_TOKEN',
  'NOETL_ENCRYPTION_KEY',
  'NOETL_DATABASE_URL',
  'NOETL_TEST_DATABASE_URL',
  'POSTGRES_PASSWORD',
  'NATS_PASSWORD',
  'NATS_TOKEN',
];
const SECRET_ENV = new Set(NOETL_SECRET_ENV);

/**
 * What python and shell steps on a worker or server see of its environment (DESIGN.md section
 * 7); everything else (tokens, keys, database URLs, cloud credentials of the host) stays out.
 */
export const TOOL_ENV_ALLOW: readonly string[] = [
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'SHELL',
  'LANG',
  'LANGUAGE',
  'TZ',
  'TMPDIR',
  'TMP',
  'TEMP',
  'PYTHONPATH',
  'PYTHONHOME',
  'PYTHONUSERBASE',
  'VIRTUAL_ENV',
  'PYTHON_PATH',
  'PYENV_ROOT',
  'PYENV_VERSION',
  'CONDA_PREFIX',
  'CONDA_DEFAULT_ENV',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
];
const ALLOW = new Set(TOOL_ENV_ALLOW);

/** Names an operator adds to the allow-list: `NOETL_KEYCHAIN_ENV_VARS` (comma or space list). */
export const TOOL_ENV_EXTRA_VAR = 'NOETL_KEYCHAIN_ENV_VARS';

/**
 * The environment of tools run by a worker or a server: only the allow-listed names, `LC_*`,
 * and the names listed in `NOETL_KEYCHAIN_ENV_VARS` (never noetl's own secrets).
 */
export function workerToolEnv(host: Env): Record<string, string> {
  const extra = new Set(
    (host[TOOL_ENV_EXTRA_VAR] ?? '').split(/[\s,]+/).filter((n) => n !== '' && !SECRET_ENV.has(n)),
  );
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(host)) {
    if (value === undefined) continue;
    if (ALLOW.has(name) || name.startsWith('LC_') || extra.has(name)) out[name] = value;
  }
  return out;
}

/** The host environment without noetl's own secrets (`noetl run`: the user's environment). */
export function withoutNoetlSecrets(host: Env): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(host)) if (!SECRET_ENV.has(name)) out[name] = value;
  return out;
}

/** The host environment, minus noetl's own secrets, overlaid with a tool's `env` map. */
export function mergeEnv(
  base: Env,
  extra: Readonly<Record<string, string>> | undefined,
): Record<string, string | undefined> {
  const env = withoutNoetlSecrets(base);
  return extra ? { ...env, ...extra } : env;
}
