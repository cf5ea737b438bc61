import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadServerConfig, type ConfigValues } from '../../src/config/index.js';
import { startServer, type ServerHandle } from '../../src/server/main.js';

export interface RunningServer {
  readonly handle: ServerHandle;
  readonly url: string;
  readonly home: string;
  post<T = Record<string, unknown>>(path: string, body?: unknown): Promise<{ status: number; body: T }>;
  get<T = Record<string, unknown>>(path: string): Promise<{ status: number; body: T }>;
  /** Registers a playbook (YAML text); returns its catalog path. */
  register(yaml: string): Promise<string>;
  /** Polls until the execution is not RUNNING (or times out). */
  waitFor(executionId: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  stop(options?: { keepHome?: boolean }): Promise<void>;
}

/**
 * A whole server in this process (store, bus, HTTP on a free port, in-process workers), as
 * `noetl server start` runs it. Default: PGlite under a temp NOETL_HOME.
 */
export async function startTestServer(
  env: ConfigValues = {},
  options: { home?: string; toolEnv?: Record<string, string | undefined> } = {},
): Promise<RunningServer> {
  const home = options.home ?? mkdtempSync(join(tmpdir(), 'noetl-embedded-'));
  const config = loadServerConfig({
    env: { NOETL_HOME: home, NOETL_PORT: '0', NOETL_HOST: '127.0.0.1', NOETL_LOG_LEVEL: 'warn', ...env },
  });
  const handle = await startServer(config, { env: options.toolEnv ?? process.env });
  const url = handle.url;
  const call = async <T>(method: string, path: string, body?: unknown) => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : {}) as T };
  };
  const server: RunningServer = {
    handle,
    url,
    home,
    post: (path, body) => call('POST', path, body ?? {}),
    get: (path) => call('GET', path),
    register: async (yaml) => {
      const r = await call<{ path: string; error?: string }>('POST', '/api/catalog/register', {
        content: yaml,
      });
      if (r.status !== 200) throw new Error(`register failed: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body.path;
    },
    waitFor: async (executionId, timeoutMs = 60_000) => {
      const deadline = Date.now() + timeoutMs;
      let wait = 20;
      for (;;) {
        const r = await call<Record<string, unknown>>('GET', `/api/executions/${executionId}/status`);
        if (r.status === 200 && r.body['status'] !== 'RUNNING') return r.body;
        if (Date.now() > deadline)
          throw new Error(`execution ${executionId} still running: ${JSON.stringify(r.body)}`);
        await new Promise((done) => setTimeout(done, wait));
        wait = Math.min(200, wait * 2);
      }
    },
    stop: async (opts = {}) => {
      await handle.stop();
      if (!opts.keepHome && !options.home) rmSync(home, { recursive: true, force: true });
    },
  };
  return server;
}
