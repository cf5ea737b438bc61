/**
 * A distributed noetl for fault tests: N control-plane processes (`node dist/server/main.js`) and
 * M worker processes (`node dist/worker/main.js`) on a scratch PostgreSQL schema and a private
 * nats-server on a random port, with timeouts shrunk so crashes are noticed in seconds. The test
 * kills and restarts any part; `dispose()` kills every process, drops the schema and removes the
 * nats-server. Needs `npx tsc -p tsconfig.build.json` first (npm test builds).
 *
 * Each server's PostgreSQL connections carry `application_name=<cluster.applicationName>`, so a
 * test can terminate exactly those (`terminateServerConnections`), never anyone else's.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startNatsServer, type NatsServerHandle } from './nats-server.js';
import { createSchema, dropSchema, PG_URL, withPg } from './pg-scratch.js';

const SERVER_MAIN = fileURLToPath(new URL('../../dist/server/main.js', import.meta.url));
const WORKER_MAIN = fileURLToPath(new URL('../../dist/worker/main.js', import.meta.url));

/** Settings every process of a cluster shares (names from src/config/env-vars.ts). */
const FAST_ENV: Readonly<Record<string, string>> = {
  NOETL_LOG_LEVEL: 'warn',
  // a worker silent for 3 s is offline, and the reaper releases its commands
  NOETL_RUNTIME_OFFLINE_SECONDS: '3',
  WORKER_HEARTBEAT_INTERVAL: '1',
  // redeliver an unacked notification after 5 s; short pulls so a NATS restart is noticed fast
  NOETL_WORKER_NATS_ACK_WAIT_SECONDS: '5',
  NOETL_WORKER_NATS_FETCH_TIMEOUT_SECONDS: '2',
  NOETL_WORKER_NATS_FETCH_HEARTBEAT_SECONDS: '1',
  WORKER_GRACE_SECONDS: '10',
};

/** The last lines a process wrote, for failure messages. */
class OutputTail {
  private lines: string[] = [];
  constructor(private readonly max = 200) {}
  push(chunk: Buffer): void {
    for (const line of chunk.toString().split('\n')) if (line.trim() !== '') this.lines.push(line);
    if (this.lines.length > this.max) this.lines = this.lines.slice(-this.max);
  }
  text(): string {
    return this.lines.join('\n');
  }
}

export type StopSignal = 'SIGTERM' | 'SIGKILL';

/** One OS process of the cluster that can be stopped and started again with the same settings. */
abstract class ClusterProcess {
  protected child: ChildProcess | undefined;
  protected readonly output = new OutputTail();

  constructor(
    readonly name: string,
    private readonly registry: Set<ChildProcess>,
  ) {}

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Exit code of the last incarnation (null while running or when killed by a signal). */
  get exitCode(): number | null {
    return this.child?.exitCode ?? null;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  protected abstract command(): { args: string[]; env: NodeJS.ProcessEnv };
  protected abstract ready(): Promise<boolean>;

  async start(timeoutMs = 60_000): Promise<void> {
    if (this.running) return;
    const { args, env } = this.command();
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.registry.add(child);
    child.stdout?.on('data', (c: Buffer) => this.output.push(c));
    child.stderr?.on('data', (c: Buffer) => this.output.push(c));
    child.once('exit', () => this.registry.delete(child));
    await waitFor(
      async () => {
        if (child.exitCode !== null || child.signalCode !== null) {
          throw new Error(
            `${this.name} exited (${child.exitCode ?? child.signalCode}) while starting:\n${this.log()}`,
          );
        }
        return (await this.ready().catch(() => false)) ? true : undefined;
      },
      `${this.name} to start`,
      timeoutMs,
      { rethrow: (err) => err instanceof Error && err.message.includes('while starting') },
    );
  }

  /** SIGTERM: graceful (drain); SIGKILL: a crash. Resolves when the process has exited. */
  stop(signal: StopSignal): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      child.once('exit', () => resolve());
      child.kill(signal);
    });
  }

  async restart(signal: StopSignal): Promise<void> {
    await this.stop(signal);
    await this.start();
  }

  log(): string {
    return `--- ${this.name} (pid ${this.pid ?? '-'}) ---\n${this.output.text()}`;
  }
}

export class ClusterServer extends ClusterProcess {
  constructor(
    name: string,
    registry: Set<ChildProcess>,
    readonly port: number,
    private readonly env: NodeJS.ProcessEnv,
  ) {
    super(name, registry);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  protected command(): { args: string[]; env: NodeJS.ProcessEnv } {
    return { args: [SERVER_MAIN, '--host', '127.0.0.1', '--port', String(this.port)], env: this.env };
  }

  protected async ready(): Promise<boolean> {
    const r = await fetch(`${this.url}/api/health`, { signal: AbortSignal.timeout(2_000) });
    return r.ok;
  }
}

export class ClusterWorker extends ClusterProcess {
  constructor(
    name: string,
    registry: Set<ChildProcess>,
    readonly workerId: string,
    readonly metricsPort: number,
    private readonly env: NodeJS.ProcessEnv,
  ) {
    super(name, registry);
  }

  protected command(): { args: string[]; env: NodeJS.ProcessEnv } {
    return { args: [WORKER_MAIN], env: this.env };
  }

  protected async ready(): Promise<boolean> {
    return (await this.health()).status === 'ok';
  }

  /** The worker's `/health`: `running` is the number of commands it runs now. */
  async health(): Promise<{ status: string; running: number }> {
    const r = await fetch(`http://127.0.0.1:${this.metricsPort}/health`, {
      signal: AbortSignal.timeout(2_000),
    });
    return (await r.json()) as { status: string; running: number };
  }
}

export interface ClusterOptions {
  /** Control-plane replicas (default 1). */
  readonly servers?: number;
  /** Worker processes (default 2). */
  readonly workers?: number;
  /** Which server each worker talks to: index into servers (default: all to server 0). */
  readonly workerServer?: (workerIndex: number) => number;
  readonly workerConcurrency?: number;
  /** Extra environment for every process. */
  readonly env?: Readonly<Record<string, string>>;
}

export interface ExecutionEventView {
  readonly event_id: string;
  readonly event_type: string;
  readonly node_name: string | null;
  readonly worker_id?: string | null;
  readonly meta: { command_id?: string; worker_id?: string } | null;
}

export interface Cluster {
  readonly id: string;
  readonly schema: string;
  /** `application_name` of every server's PostgreSQL connection. */
  readonly applicationName: string;
  readonly nats: NatsServerHandle;
  readonly servers: readonly ClusterServer[];
  readonly workers: ClusterWorker[];
  /** Starts one more worker (pointed at `serverIndex`), with extra environment. */
  addWorker(serverIndex?: number, env?: Readonly<Record<string, string>>): Promise<ClusterWorker>;
  /** JSON call to a server; throws on a non-2xx status (with the body). */
  api<T>(serverIndex: number, method: string, path: string, body?: unknown): Promise<T>;
  register(yaml: string, serverIndex?: number): Promise<void>;
  execute(path: string, serverIndex?: number, payload?: Record<string, unknown>): Promise<string>;
  status(executionId: string, serverIndex?: number): Promise<string>;
  events(executionId: string, serverIndex?: number, types?: string): Promise<ExecutionEventView[]>;
  /** `command.completed` events so far over these executions (progress for "mid-run" faults). */
  completedCommands(executionIds: readonly string[], serverIndex?: number): Promise<number>;
  /** Terminates the servers' PostgreSQL backends; returns how many. */
  terminateServerConnections(): Promise<number>;
  /** Every process's recent output. */
  logs(): string;
  /** Unfinished commands and executions, read from the database (for failure messages). */
  diagnose(): Promise<string>;
  dispose(): Promise<void>;
}

export interface WaitOptions {
  /** Between polls (default 100 ms). */
  readonly intervalMs?: number;
  /** An error of `fn` for which waiting stops at once (others count as "not yet"). */
  readonly rethrow?: (err: unknown) => boolean;
}

/** Polls `fn` until it returns a value other than undefined; errors count as "not yet". */
export async function waitFor<T>(
  fn: () => Promise<T | undefined>,
  what: string,
  timeoutMs: number,
  options: WaitOptions = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value !== undefined) return value;
    } catch (err) {
      if (options.rethrow?.(err)) throw err;
      lastError = err;
    }
    if (Date.now() > deadline) {
      const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 100));
  }
}

function databaseUrl(applicationName: string): string {
  const url = new URL(PG_URL);
  url.searchParams.set('application_name', applicationName);
  return url.toString();
}

export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const id = randomBytes(4).toString('hex');
  const applicationName = `noetl_fault_${id}`;
  const registry = new Set<ChildProcess>();
  const home = mkdtempSync(join(tmpdir(), 'noetl-cluster-'));
  const schema = await createSchema('noetl_fault');
  let nats: NatsServerHandle | undefined;
  const servers: ClusterServer[] = [];
  const workers: ClusterWorker[] = [];

  const killAll = async (): Promise<void> => {
    await Promise.all([...workers, ...servers].map((p) => p.stop('SIGKILL')));
    for (const child of registry) child.kill('SIGKILL');
  };

  try {
    nats = await startNatsServer();
    const common: NodeJS.ProcessEnv = {
      ...process.env,
      ...FAST_ENV,
      NOETL_HOME: home,
      NATS_URL: nats.url,
      NATS_STREAM: `fault_${id}`,
      NATS_CONSUMER: `fault_${id}`,
      NATS_SUBJECT: `fault_${id}.commands`,
      ...options.env,
    };
    const key = randomBytes(32).toString('base64');
    const serverCount = options.servers ?? 1;
    for (let i = 0; i < serverCount; i++) {
      const port = await freePort();
      servers.push(
        new ClusterServer(`server${i}`, registry, port, {
          ...common,
          NOETL_DATABASE_URL: databaseUrl(applicationName),
          NOETL_SCHEMA: schema,
          NOETL_ENCRYPTION_KEY: key,
          NOETL_PUBLIC_SERVER_URL: `http://127.0.0.1:${port}`,
          // snowflake ids of replicas must not collide
          NOETL_SERVER_MACHINE_ID: String(i + 1),
          NOETL_SERVER_NAME: `fault-${id}-server${i}`,
        }),
      );
    }
    // Replicas migrate one after the other here; the migration lock is tested elsewhere.
    for (const s of servers) await s.start();

    let workerSeq = 0;
    const addWorker = async (
      serverIndex?: number,
      env: Readonly<Record<string, string>> = {},
    ): Promise<ClusterWorker> => {
      const index = workerSeq++;
      const target = servers[serverIndex ?? options.workerServer?.(index) ?? 0];
      if (!target) throw new Error(`no server ${serverIndex}`);
      const metricsPort = await freePort();
      const workerId = `fault-${id}-w${index}`;
      const worker = new ClusterWorker(`worker${index}`, registry, workerId, metricsPort, {
        ...common,
        WORKER_ID: workerId,
        NOETL_SERVER_URL: target.url,
        WORKER_MAX_CONCURRENT: String(options.workerConcurrency ?? 4),
        WORKER_METRICS_BIND: `127.0.0.1:${metricsPort}`,
        ...env,
      });
      workers.push(worker);
      await worker.start();
      return worker;
    };
    await Promise.all(Array.from({ length: options.workers ?? 2 }, () => addWorker()));

    const api = async <T>(serverIndex: number, method: string, path: string, body?: unknown): Promise<T> => {
      const server = servers[serverIndex];
      if (!server) throw new Error(`no server ${serverIndex}`);
      const r = await fetch(`${server.url}${path}`, {
        method,
        signal: AbortSignal.timeout(15_000),
        ...(body === undefined
          ? {}
          : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
      });
      const text = await r.text();
      if (!r.ok) throw new Error(`${method} ${path} on ${server.name}: HTTP ${r.status} ${text}`);
      return (text === '' ? {} : JSON.parse(text)) as T;
    };

    const events = async (
      executionId: string,
      serverIndex = 0,
      types?: string,
    ): Promise<ExecutionEventView[]> => {
      const query = `limit=10000${types ? `&types=${types}` : ''}`;
      const r = await api<{ events: ExecutionEventView[] }>(
        serverIndex,
        'GET',
        `/api/executions/${executionId}/events?${query}`,
      );
      return r.events;
    };

    const natsHandle = nats;
    const cluster: Cluster = {
      id,
      schema,
      applicationName,
      nats: natsHandle,
      servers,
      workers,
      addWorker,
      api,
      register: async (yaml, serverIndex = 0) => {
        await api(serverIndex, 'POST', '/api/catalog/register', { content: yaml });
      },
      execute: async (path, serverIndex = 0, payload) => {
        const r = await api<{ execution_id: string }>(serverIndex, 'POST', '/api/execute', {
          path,
          ...(payload ? { payload } : {}),
        });
        return r.execution_id;
      },
      status: async (executionId, serverIndex = 0) =>
        (await api<{ status: string }>(serverIndex, 'GET', `/api/executions/${executionId}/status`)).status,
      events,
      completedCommands: async (executionIds, serverIndex = 0) => {
        let n = 0;
        for (const eid of executionIds) n += (await events(eid, serverIndex, 'command.completed')).length;
        return n;
      },
      terminateServerConnections: () =>
        withPg(async (c) => {
          const r = await c.query(
            `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
             WHERE application_name = $1 AND pid <> pg_backend_pid()`,
            [applicationName],
          );
          return r.rows.filter((row: { ok: boolean }) => row.ok).length;
        }),
      diagnose: () =>
        withPg(async (c) => {
          const executions = await c.query(
            `SELECT execution_id::text, status, last_event_type, last_node_name, event_count
             FROM ${schema}.execution WHERE status <> 'COMPLETED' ORDER BY execution_id`,
          );
          const commands = await c.query(
            `SELECT command_key, status, worker_id, attempt, published_at, updated_at
             FROM ${schema}.command WHERE status <> 'COMPLETED' ORDER BY command_id`,
          );
          return [
            `--- executions not COMPLETED (${executions.rowCount}) ---`,
            ...executions.rows.map((r) => JSON.stringify(r)),
            `--- commands not COMPLETED (${commands.rowCount}) ---`,
            ...commands.rows.map((r) => JSON.stringify(r)),
          ].join('\n');
        }),
      logs: () =>
        [
          natsHandle.log().split('\n').slice(-30).join('\n'),
          ...[...servers, ...workers].map((p) => p.log()),
        ].join('\n'),
      dispose: async () => {
        await killAll();
        await natsHandle.dispose();
        await dropSchema(schema);
        rmSync(home, { recursive: true, force: true });
      },
    };
    return cluster;
  } catch (err) {
    await killAll();
    await nats?.dispose();
    await dropSchema(schema).catch(() => undefined);
    rmSync(home, { recursive: true, force: true });
    throw err;
  }
}
