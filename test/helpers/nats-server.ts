// A private nats-server for tests that need to stop, kill or restart it: random port, JetStream
// store in a temp dir, removed on dispose. Generic: used by the bus, worker and fault tests.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export interface NatsServerOptions {
  /** Defaults to `NATS_SERVER_BIN`, then /usr/sbin/nats-server, then `nats-server` on PATH. */
  readonly bin?: string;
  /** Extra command-line arguments (e.g. `['--user', 'u', '--pass', 'p']`). */
  readonly args?: readonly string[];
  /** How long to wait for "Server is ready". Default 10 s. */
  readonly readyTimeoutMs?: number;
}

export interface NatsServerHandle {
  readonly port: number;
  readonly url: string;
  /** JetStream store (`-sd`); survives stop/restart, removed by dispose. */
  readonly storeDir: string;
  readonly running: boolean;
  /** Stops the server: SIGTERM is a clean shutdown, SIGKILL a crash. Resolves on exit. */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Starts it again on the same port and store. */
  start(): Promise<void>;
  /** stop then start. */
  restart(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Stops it and removes its store. */
  dispose(): Promise<void>;
  /** The server's log so far (stderr), for failure messages. */
  log(): string;
}

export function natsServerBin(explicit?: string): string {
  if (explicit) return explicit;
  const fromEnv = process.env['NATS_SERVER_BIN'];
  if (fromEnv) return fromEnv;
  return existsSync('/usr/sbin/nats-server') ? '/usr/sbin/nats-server' : 'nats-server';
}

/** True when the nats-server binary can be found (explicitly, at /usr/sbin, or on PATH). */
export function natsServerAvailable(explicit?: string): boolean {
  const bin = natsServerBin(explicit);
  if (bin.includes('/')) return existsSync(bin);
  return (process.env['PATH'] ?? '').split(delimiter).some((dir) => dir !== '' && existsSync(join(dir, bin)));
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export async function startNatsServer(options: NatsServerOptions = {}): Promise<NatsServerHandle> {
  const bin = natsServerBin(options.bin);
  const port = await freePort();
  const storeDir = await mkdtemp(join(tmpdir(), 'noetl-nats-'));
  const readyTimeoutMs = options.readyTimeoutMs ?? 10_000;
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let logText = '';

  const start = async (): Promise<void> => {
    if (child) return;
    const args = ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir, ...(options.args ?? [])];
    const proc = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    child = proc;
    exited = new Promise((resolve) => proc.once('exit', () => resolve()));
    void exited.then(() => {
      if (child === proc) child = undefined;
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => fail(new Error(`nats-server not ready in ${readyTimeoutMs} ms:\n${logText}`)),
        readyTimeoutMs,
      );
      const onData = (chunk: Buffer): void => {
        logText += chunk.toString();
        if (logText.includes('Server is ready')) done();
      };
      const onError = (err: Error): void => fail(err);
      const onExit = (code: number | null): void =>
        fail(new Error(`nats-server exited with ${code} before ready:\n${logText}`));
      function cleanup(): void {
        clearTimeout(timer);
        proc.off('error', onError);
        proc.off('exit', onExit);
      }
      function done(): void {
        cleanup();
        resolve();
      }
      function fail(err: Error): void {
        cleanup();
        proc.kill('SIGKILL');
        reject(err);
      }
      proc.stderr?.on('data', onData);
      proc.once('error', onError);
      proc.once('exit', onExit);
    });
  };

  const stop = async (signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> => {
    const proc = child;
    if (!proc) return;
    proc.kill(signal);
    await exited;
    child = undefined;
  };

  await start();
  return {
    port,
    url: `nats://127.0.0.1:${port}`,
    storeDir,
    get running() {
      return child !== undefined;
    },
    start,
    stop,
    async restart(signal) {
      await stop(signal);
      await start();
    },
    async dispose() {
      await stop('SIGKILL');
      await rm(storeDir, { recursive: true, force: true });
    },
    log: () => logText,
  };
}
