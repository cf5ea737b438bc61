import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import type { Readable, Writable } from 'node:stream';
import { CancelledError, TimeoutError, ToolError } from '../../shared/index.js';
import type { OutputSink, OutputStream } from '../output.js';
import type { PythonLib } from './config.js';
import { PYTHON_RUNNER } from './runner.js';

/** Settings of a pool (`NOETL_PYTHON_POOL`, `NOETL_PYTHON_POOL_MAX_RUNS`, `NOETL_PYTHON_POOL_MAX_RSS_MB`). */
export interface PythonPoolOptions {
  /** Interpreters at most (a worker's slots, `noetl run`'s concurrency). */
  readonly size: number;
  /** Runs after which an interpreter is replaced (default 100). */
  readonly maxRuns?: number;
  /** Resident memory past which an interpreter is replaced after its run (default 512 MiB). */
  readonly maxRssBytes?: number;
}

export const DEFAULT_PYTHON_POOL_MAX_RUNS = 100;
export const DEFAULT_PYTHON_POOL_MAX_RSS_BYTES = 512 * 1024 * 1024;

/** The wrapper's marker document (wrapper.ts). */
export interface MarkerDoc {
  readonly ok: boolean;
  readonly has?: boolean;
  readonly value?: unknown;
  readonly type?: string;
  readonly message?: string;
  readonly traceback?: string;
}

/** One step for a warm interpreter. */
export interface PooledRunRequest {
  /** The interpreter's executable (already resolved). */
  readonly python: string;
  /** The step's whole environment: interpreters are shared only by steps with the same one. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Absolute working directory of the step. */
  readonly cwd: string;
  /** The wrapper's payload (`{code, filename, libs, warnings, context}`). */
  readonly payload: { readonly libs: readonly PythonLib[] } & Readonly<Record<string, unknown>>;
  readonly timeoutMs?: number;
  readonly signal: AbortSignal;
  readonly output?: OutputSink;
}

/** What a process per step would have given: its output and exit, and the marker document. */
export interface PooledRunResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
  readonly exitSignal?: string;
  /** Undefined when the interpreter died (or could not write it) before answering. */
  readonly doc?: MarkerDoc;
}

interface Answer {
  readonly nonce: string;
  readonly status?: number;
  readonly rss?: number;
  readonly recycle?: boolean;
  readonly warmed?: readonly string[];
  readonly doc?: MarkerDoc;
  readonly crash?: number;
  readonly setup_error?: string;
  readonly errno?: number;
}

const KIND = 'python';
/** How long the end of a step's output may lag behind its answer before the interpreter goes. */
const END_WAIT_MS = 2000;
/** After an interpreter exits, how long its pipes may stay open (a background child holds them). */
const DRAIN_MS = 200;
const ENOENT = 2;

/** Strips the end-of-step token off one output stream, passing everything before it on. */
class EndFilter {
  private pending: Buffer = Buffer.alloc(0);
  done = false;
  /** Called once the token was seen. */
  onDone: (() => void) | undefined;
  readonly chunks: Buffer[] = [];

  constructor(
    private readonly token: Buffer,
    private readonly stream: OutputStream,
    private readonly sink: OutputSink | undefined,
  ) {}

  feed(chunk: Buffer): void {
    if (this.done) return;
    const buf = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    const at = buf.indexOf(this.token);
    if (at >= 0) {
      this.done = true;
      this.pending = Buffer.alloc(0);
      this.pass(buf.subarray(0, at));
      this.onDone?.();
      return;
    }
    // Hold back only a tail that may be the start of the token.
    let keep = Math.min(buf.length, this.token.length - 1);
    while (keep > 0 && !buf.subarray(buf.length - keep).equals(this.token.subarray(0, keep))) keep--;
    this.pending = Buffer.from(buf.subarray(buf.length - keep));
    this.pass(buf.subarray(0, buf.length - keep));
  }

  /** The interpreter died: what was held back was output after all. */
  flush(): void {
    if (this.pending.length > 0) this.pass(this.pending);
    this.pending = Buffer.alloc(0);
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }

  private pass(part: Buffer): void {
    if (part.length === 0) return;
    const copy = Buffer.from(part);
    this.chunks.push(copy);
    this.sink?.write(this.stream, copy);
  }
}

interface ActiveRun {
  readonly nonce: string;
  readonly out: EndFilter;
  readonly err: EndFilter;
  answer?: Answer;
  ended?: 'timeout' | 'cancelled';
  settle(): void;
}

/** One long-lived python process; runs one step at a time. */
class Interpreter {
  readonly child: ChildProcess;
  /** `module` or `module:name` of the libs kept loaded. */
  readonly libs = new Set<string>();
  runs = 0;
  lastUsed = 0;
  busy = false;
  dead = false;
  /** Asked to be replaced after its current run. */
  retire = false;
  exitCode: number | null = null;
  exitSignal: NodeJS.Signals | null = null;
  spawnError: NodeJS.ErrnoException | undefined;
  /** Exited and its pipes closed. */
  ended = false;
  /** Resident memory after its last run. */
  rss = 0;
  readonly closed: Promise<void>;
  private run: ActiveRun | undefined;
  private answerParts: string[] = [];

  constructor(
    readonly python: string,
    readonly env: Readonly<Record<string, string | undefined>>,
    readonly key: string,
  ) {
    this.child = spawn(python, ['-c', PYTHON_RUNNER], {
      env,
      stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'],
      // Its own process group: a kill takes the step's children with it.
      detached: true,
    });
    const [, stdout, stderr, ctl, answers] = this.child.stdio as [
      null,
      Readable,
      Readable,
      Writable,
      Readable,
    ];
    stdout.on('data', (chunk: Buffer) => this.run?.out.feed(chunk));
    stderr.on('data', (chunk: Buffer) => this.run?.err.feed(chunk));
    ctl.on('error', () => undefined); // EPIPE once it died
    answers.setEncoding('utf8');
    answers.on('data', (text: string) => this.onAnswers(text));
    this.child.on('error', (e: NodeJS.ErrnoException) => {
      this.spawnError = e;
      this.dead = true;
      this.run?.settle();
    });
    this.child.on('exit', (code, sig) => {
      this.dead = true;
      this.exitCode = code;
      this.exitSignal = sig;
      this.killGroup();
      const drain = setTimeout(() => {
        stdout.destroy();
        stderr.destroy();
        answers.destroy();
      }, DRAIN_MS);
      drain.unref();
    });
    this.closed = new Promise<void>((resolve) => {
      this.child.on('close', () => {
        this.dead = true;
        this.ended = true;
        this.run?.settle();
        resolve();
      });
    });
    this.setRef(false);
  }

  /** A busy interpreter keeps Node alive; an idle one never does (it ends at end of input). */
  setRef(on: boolean): void {
    const handles = [this.child, ...this.child.stdio] as unknown as ({
      ref?: () => void;
      unref?: () => void;
    } | null)[];
    for (const h of handles) {
      if (on) h?.ref?.();
      else h?.unref?.();
    }
  }

  killGroup(): void {
    if (this.child.pid === undefined) return;
    try {
      process.kill(-this.child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }

  kill(): void {
    this.dead = true;
    this.killGroup();
  }

  private onAnswers(text: string): void {
    // An answer may be large (a 50 MB result): only the new text is searched for its end.
    let rest = text;
    let nl = rest.indexOf('\n');
    while (nl >= 0) {
      this.answerParts.push(rest.slice(0, nl));
      const line = this.answerParts.join('');
      this.answerParts = [];
      rest = rest.slice(nl + 1);
      nl = rest.indexOf('\n');
      this.onAnswer(line);
    }
    if (rest !== '') this.answerParts.push(rest);
  }

  private onAnswer(line: string): void {
    let answer: Answer | undefined;
    try {
      answer = JSON.parse(line) as Answer;
    } catch {
      answer = undefined;
    }
    const run = this.run;
    if (!run || run.answer || !answer || answer.nonce !== run.nonce) {
      this.kill(); // not an answer to the step it runs: it cannot be trusted with another
      return;
    }
    run.answer = answer;
    run.settle();
  }

  execute(req: PooledRunRequest): Promise<PooledRunResult> {
    const nonce = randomBytes(12).toString('hex');
    const token = Buffer.from(`@@__NOETL_END_${nonce}__@@`, 'ascii');
    this.setRef(true);
    return new Promise<PooledRunResult>((resolve, reject) => {
      let settled = false;
      let endTimer: NodeJS.Timeout | undefined;
      const run: ActiveRun = {
        nonce,
        out: new EndFilter(token, 'stdout', req.output),
        err: new EndFilter(token, 'stderr', req.output),
        settle: () => check(),
      };
      const stop = (why: 'timeout' | 'cancelled'): void => {
        if (settled || run.ended) return;
        run.ended = why;
        this.kill();
      };
      const timer =
        req.timeoutMs === undefined ? undefined : setTimeout(() => stop('timeout'), req.timeoutMs);
      const onAbort = (): void => stop('cancelled');
      req.signal.addEventListener('abort', onAbort, { once: true });
      const finish = (): void => {
        settled = true;
        this.run = undefined;
        if (timer) clearTimeout(timer);
        if (endTimer) clearTimeout(endTimer);
        req.signal.removeEventListener('abort', onAbort);
        this.setRef(false);
      };
      const check = (): void => {
        if (settled) return;
        if (this.spawnError) {
          finish();
          const e = this.spawnError;
          const message =
            e.code === 'ENOENT'
              ? `${KIND}: executable not found: ${this.python}`
              : `${KIND}: cannot start ${this.python}: ${e.message}`;
          reject(new ToolError(message, { cause: e, details: { command: this.python } }));
          return;
        }
        if (run.ended) {
          if (!this.ended) return; // killed: its output is complete once its pipes close
          finish();
          run.out.flush();
          run.err.flush();
          if (run.ended === 'cancelled') {
            reject(new CancelledError(`${KIND}: cancelled`));
            return;
          }
          const seconds = (req.timeoutMs ?? 0) / 1000;
          reject(
            new TimeoutError(`${KIND}: timed out after ${seconds}s`, {
              details: { timeout_seconds: seconds, data: { stdout: run.out.text(), stderr: run.err.text() } },
            }),
          );
          return;
        }
        const answer = run.answer;
        if (!answer && !this.ended) return;
        if (answer && !(run.out.done && run.err.done) && !this.ended) {
          // The answer came first: the end of the output is on its way.
          endTimer ??= setTimeout(() => {
            this.retire = true; // its output lost its way: not trusted with another step
            run.out.done = run.err.done = true;
            check();
          }, END_WAIT_MS);
          return;
        }
        finish();
        run.out.flush();
        run.err.flush();
        const streams = { stdout: run.out.text(), stderr: run.err.text() };
        if (answer?.setup_error !== undefined) {
          const message =
            answer.errno === ENOENT
              ? `${KIND}: executable not found: ${this.python}`
              : `${KIND}: cannot start ${this.python}: ${answer.setup_error}`;
          reject(new ToolError(message, { details: { command: this.python } }));
          return;
        }
        if (!answer || answer.crash !== undefined || answer.doc === undefined) {
          // It died (or could not write the result) as a process of its own would have.
          this.retire = true;
          const sig = answer ? null : this.exitSignal;
          resolve({
            ...streams,
            exitCode: answer?.crash ?? this.exitCode ?? 128,
            ...(sig ? { exitSignal: sig } : {}),
          });
          return;
        }
        this.runs++;
        this.rss = answer.rss ?? 0;
        for (const lib of answer.warmed ?? []) this.libs.add(lib);
        if (answer.recycle) this.retire = true;
        resolve({ ...streams, exitCode: answer.status ?? 0, doc: answer.doc });
      };
      run.out.onDone = check;
      run.err.onDone = check;
      this.run = run;
      const line = JSON.stringify({ nonce, cwd: req.cwd, payload: req.payload });
      (this.child.stdio[3] as Writable).write(`${line}\n`);
      if (this.spawnError || this.ended) check();
    });
  }
}

/** `module` or `module:name`, as the runner names a lib it keeps. */
function libKey(lib: PythonLib): string {
  return lib.name ? `${lib.module}:${lib.name}` : lib.module;
}

/** Interpreters are shared by steps with the same executable and the same environment. */
export function interpreterKey(python: string, env: Readonly<Record<string, string | undefined>>): string {
  const hash = createHash('sha256');
  hash.update(python);
  for (const name of Object.keys(env).sort()) {
    const value = env[name];
    if (value === undefined) continue;
    hash.update(`\0${name}=${value}`);
  }
  return hash.digest('hex');
}

/**
 * Warm python interpreters (issue: a python step at the cost of running its code, not of starting
 * python). A step takes an idle interpreter of its executable and environment that has its
 * `libs` loaded, else a fresh one; none free and no room: `run` answers undefined and the step
 * runs in a process of its own. An interpreter is replaced after `maxRuns` runs, when it grew
 * past `maxRssBytes`, when it died, timed out or was cancelled, or when it asks to be (runner.ts:
 * what a reset cannot undo). `close()` kills them all.
 */
export class PythonPool {
  private readonly all = new Set<Interpreter>();
  private closedFlag = false;
  private readonly maxRuns: number;
  private readonly maxRssBytes: number;

  constructor(private readonly options: PythonPoolOptions) {
    this.maxRuns = options.maxRuns ?? DEFAULT_PYTHON_POOL_MAX_RUNS;
    this.maxRssBytes = options.maxRssBytes ?? DEFAULT_PYTHON_POOL_MAX_RSS_BYTES;
  }

  /** Live interpreters (busy or idle). */
  get live(): number {
    let n = 0;
    for (const i of this.all) if (!i.dead) n++;
    return n;
  }

  /** Process ids of the live interpreters (tests). */
  pids(): number[] {
    return [...this.all]
      .filter((i) => !i.dead && i.child.pid !== undefined)
      .map((i) => i.child.pid as number);
  }

  /** Runs one step on a warm interpreter; undefined when none is free (run it in a process). */
  async run(req: PooledRunRequest): Promise<PooledRunResult | undefined> {
    if (this.closedFlag) return undefined;
    if (req.signal.aborted) throw new CancelledError();
    const key = interpreterKey(req.python, req.env);
    const interp = this.acquire(key, req);
    if (!interp) return undefined;
    interp.busy = true;
    try {
      return await interp.execute(req);
    } finally {
      interp.busy = false;
      interp.lastUsed = Date.now();
      this.release(interp);
    }
  }

  private acquire(key: string, req: PooledRunRequest): Interpreter | undefined {
    const wanted = req.payload.libs.map(libKey);
    let best: Interpreter | undefined;
    let bestScore = -1;
    for (const i of this.all) {
      if (i.busy || i.dead || i.retire || i.key !== key) continue;
      // Has every lib loaded (the fewest others best), else a fresh one loads them.
      const hasAll = wanted.every((k) => i.libs.has(k));
      const score = hasAll ? 2_000_000 - i.libs.size : i.libs.size === 0 ? 1 : -1;
      if (score > bestScore) {
        best = i;
        bestScore = score;
      }
    }
    if (best) return best;
    if (this.live >= this.options.size) {
      // No room: the idle interpreter used longest ago makes way, if there is one.
      let oldest: Interpreter | undefined;
      for (const i of this.all) {
        if (i.busy || i.dead) continue;
        if (!oldest || i.lastUsed < oldest.lastUsed) oldest = i;
      }
      if (!oldest) return undefined;
      this.drop(oldest);
    }
    return this.spawn(req.python, req.env, key);
  }

  private spawn(python: string, env: Readonly<Record<string, string | undefined>>, key: string): Interpreter {
    const interp = new Interpreter(python, env, key);
    this.all.add(interp);
    void interp.closed.then(() => {
      if (!interp.busy) this.all.delete(interp);
    });
    return interp;
  }

  private drop(interp: Interpreter): void {
    interp.kill();
    this.all.delete(interp);
  }

  private release(interp: Interpreter): void {
    const worn = interp.retire || interp.runs >= this.maxRuns || interp.rss > this.maxRssBytes;
    if (!interp.dead && !worn) return;
    const used = interp.runs > 0;
    this.drop(interp);
    // A replacement starts now, so the next step finds it warm.
    if (used && !this.closedFlag && this.live < this.options.size)
      this.spawn(interp.python, interp.env, interp.key);
  }

  /** Kills every interpreter (a running step ends as cancelled) and waits for them to go. */
  async close(): Promise<void> {
    this.closedFlag = true;
    const all = [...this.all];
    for (const i of all) {
      i.setRef(true); // Node waits for them to be gone
      i.kill();
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(all.map((i) => i.closed)),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, 2000);
      }),
    ]);
    clearTimeout(timer);
    for (const i of all) i.setRef(false);
    this.all.clear();
  }
}
