import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import pg from 'pg';
import { loadServerConfig, type ConfigValues, type ServerConfig } from '../../src/config/index.js';
import { EnvelopeCipher, buildApp, createServerLogger, type AppDeps } from '../../src/server/index.js';
import { openStore, type Store } from '../../src/store/index.js';
import { migratedPgliteDataDir } from './pglite-template.js';

/**
 * A real store for server tests: PGlite in a temp dir, or a fresh schema of the PostgreSQL of the
 * development and CI machines (an unreachable database fails the test: never skipped).
 */
export interface TestBackend {
  readonly kind: 'pglite' | 'postgres';
  readonly store: Store;
  /** Env that selects this database for loadServerConfig. */
  readonly env: ConfigValues;
  /** NOETL_HOME of the tests (temp dir). */
  readonly home: string;
  /** PGlite data directory (pglite only). */
  readonly dataDir?: string;
  /** Schema of the noetl tables. */
  readonly schema: string;
  dispose(): Promise<void>;
}

export const TEST_DATABASE_URL =
  process.env['NOETL_TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

export async function pgliteBackend(): Promise<TestBackend> {
  const home = await mkdtemp(join(tmpdir(), 'noetl-server-'));
  const dataDir = join(home, 'data');
  await migratedPgliteDataDir(dataDir);
  const store = await openStore({ dataDir });
  return {
    kind: 'pglite',
    store,
    env: { NOETL_HOME: home },
    home,
    dataDir,
    schema: 'noetl',
    dispose: async () => {
      await store.close();
      await rm(home, { recursive: true, force: true });
    },
  };
}

export async function postgresBackend(): Promise<TestBackend> {
  const home = await mkdtemp(join(tmpdir(), 'noetl-server-'));
  const schema = `noetl_t_${randomBytes(5).toString('hex')}`;
  const store = await openStore({ databaseUrl: TEST_DATABASE_URL, schema });
  return {
    kind: 'postgres',
    store,
    env: { NOETL_HOME: home, NOETL_DATABASE_URL: TEST_DATABASE_URL, NOETL_SCHEMA: schema },
    home,
    schema,
    dispose: async () => {
      await store.close();
      const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await client.connect();
      try {
        await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await client.end();
      }
      await rm(home, { recursive: true, force: true });
    },
  };
}

export type BackendFactory = () => Promise<TestBackend>;

export const TEST_KEY = randomBytes(32).toString('base64');

export interface TestServer {
  readonly app: FastifyInstance;
  readonly config: ServerConfig;
  readonly cipher: EnvelopeCipher;
  /** Every log line the app wrote (JSON text). */
  readonly logs: string[];
  close(): Promise<void>;
}

export interface TestServerOptions {
  /** Env overrides (NOETL_API_TOKEN, NOETL_BODY_LIMIT_BYTES...). */
  readonly env?: ConfigValues;
  readonly plugins?: readonly FastifyPluginAsync[];
  readonly deps?: Partial<Omit<AppDeps, 'config' | 'store' | 'cipher' | 'logger'>>;
}

/** buildApp over the backend's store, logging at debug level into `logs`. */
export async function startTestServer(
  backend: TestBackend,
  options: TestServerOptions = {},
): Promise<TestServer> {
  const config = loadServerConfig({
    env: { NOETL_ENCRYPTION_KEY: TEST_KEY, NOETL_LOG_LEVEL: 'debug', ...backend.env, ...options.env },
  });
  const cipher = EnvelopeCipher.fromBase64(TEST_KEY);
  const logs: string[] = [];
  const logger = createServerLogger({
    level: 'debug',
    destination: { write: (line: string) => logs.push(line) },
  });
  const app = await buildApp({
    config,
    store: backend.store,
    cipher,
    logger,
    ...(options.plugins === undefined ? {} : { plugins: options.plugins }),
    ...options.deps,
  });
  await app.ready();
  return { app, config, cipher, logs, close: () => app.close() };
}
