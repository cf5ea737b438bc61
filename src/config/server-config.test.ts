import { homedir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NATS_DEFAULTS } from '../bus/index.js';
import { parseConfigText } from './config-file.js';
import { ENV_VARS, envVarsHelp, loadServerConfig, loadWorkerConfig } from './index.js';
import { describeServerConfig } from './server-config.js';

const KEY = Buffer.alloc(32, 7).toString('base64');

describe('loadServerConfig', () => {
  it('has the contract defaults and an embedded database under NOETL_HOME', () => {
    const c = loadServerConfig({ env: {} });
    expect(c).toMatchObject({
      host: '127.0.0.1',
      port: 8082,
      home: join(homedir(), '.noetl'),
      schema: 'noetl',
      database: { kind: 'pglite', dataDir: join(homedir(), '.noetl', 'data') },
      publicServerUrl: 'http://127.0.0.1:8082',
      insecure: false,
      allowedHosts: [],
      corsOrigins: [],
      sqlStatementTimeoutMs: 30_000,
      machineId: 0,
      metricsEnabled: true,
      logLevel: 'info',
      embeddedWorkers: 4,
      maxStepsPerExecution: 100_000,
      runtimeSweepIntervalSeconds: 30,
      runtimeOfflineSeconds: 60,
      bodyLimitBytes: 10 * 1024 * 1024,
      stepOutputMaxBytes: 64 * 1024,
      allowInsecureDefaultKey: false,
    });
    expect(c.nats).toBeUndefined();
    expect(c.encryptionKey).toBeUndefined();
    expect(c.apiToken).toBeUndefined();
  });

  it('reads the network safety settings and refuses malformed origins and hosts', () => {
    const c = loadServerConfig({
      env: {
        NOETL_INSECURE: '1',
        NOETL_ALLOWED_HOSTS: 'noetl.internal, Box.LAN ',
        NOETL_CORS_ORIGINS: 'https://ui.example:8443,http://localhost:5173/',
        NOETL_SQL_STATEMENT_TIMEOUT_SECONDS: '2.5',
      },
    });
    expect(c).toMatchObject({
      insecure: true,
      allowedHosts: ['noetl.internal', 'box.lan'],
      corsOrigins: ['https://ui.example:8443', 'http://localhost:5173'],
      sqlStatementTimeoutMs: 2500,
    });
    expect(() => loadServerConfig({ env: { NOETL_CORS_ORIGINS: 'ui.example' } })).toThrow(
      /NOETL_CORS_ORIGINS/,
    );
    expect(() => loadServerConfig({ env: { NOETL_CORS_ORIGINS: 'https://ui.example/app' } })).toThrow(
      /NOETL_CORS_ORIGINS/,
    );
    expect(() => loadServerConfig({ env: { NOETL_ALLOWED_HOSTS: 'http://x' } })).toThrow(
      /NOETL_ALLOWED_HOSTS/,
    );
  });

  it('takes flags over env over file', () => {
    const c = loadServerConfig({
      flags: { NOETL_PORT: 9001 },
      env: { NOETL_PORT: '9002', NOETL_HOST: '127.0.0.1', NOETL_HOME: '/srv/noetl' },
      file: {
        NOETL_PORT: 9003,
        NOETL_HOST: '10.0.0.1',
        NOETL_SCHEMA: 'from_file',
        NOETL_EMBEDDED_WORKERS: 0,
      },
    });
    expect(c).toMatchObject({
      port: 9001,
      host: '127.0.0.1',
      schema: 'from_file',
      embeddedWorkers: 0,
      home: '/srv/noetl',
      publicServerUrl: 'http://127.0.0.1:9001',
    });
    expect(c.database).toEqual({ kind: 'pglite', dataDir: '/srv/noetl/data' });
  });

  it('reads the step budget of an execution and refuses one below 1', () => {
    const c = loadServerConfig({ env: { NOETL_MAX_STEPS_PER_EXECUTION: '500' } });
    expect(c.maxStepsPerExecution).toBe(500);
    expect(() => loadServerConfig({ env: { NOETL_MAX_STEPS_PER_EXECUTION: '0' } })).toThrow(
      /NOETL_MAX_STEPS_PER_EXECUTION/,
    );
  });

  it('reads the playbook size limits, defaults above the 10,000-step benchmark chains', () => {
    expect(loadServerConfig({ env: {} }).playbookLimits).toEqual({
      maxBytes: 16 * 1024 * 1024,
      maxSteps: 50_000,
      maxDepth: 64,
    });
    const c = loadServerConfig({
      env: {
        NOETL_PLAYBOOK_MAX_BYTES: '2048',
        NOETL_PLAYBOOK_MAX_STEPS: '10',
        NOETL_PLAYBOOK_MAX_DEPTH: '8',
      },
    });
    expect(c.playbookLimits).toEqual({ maxBytes: 2048, maxSteps: 10, maxDepth: 8 });
    expect(() => loadServerConfig({ env: { NOETL_PLAYBOOK_MAX_STEPS: '0' } })).toThrow(
      /NOETL_PLAYBOOK_MAX_STEPS/,
    );
    expect(() => loadServerConfig({ env: { NOETL_PLAYBOOK_MAX_DEPTH: '3' } })).toThrow(
      /NOETL_PLAYBOOK_MAX_DEPTH/,
    );
  });

  it('treats empty values as unset', () => {
    expect(loadServerConfig({ env: { NOETL_PORT: '', NOETL_DATABASE_URL: '  ' } })).toMatchObject({
      port: 8082,
      database: { kind: 'pglite' },
    });
  });

  it('selects PostgreSQL from a URL or any POSTGRES_* part, with contract defaults', () => {
    expect(
      loadServerConfig({ env: { NOETL_DATABASE_URL: 'postgres://u:p@db:5432/x' } }).database,
    ).toMatchObject({
      kind: 'postgres',
      url: 'postgres://u:p@db:5432/x',
      poolSize: 10,
    });
    expect(
      loadServerConfig({ env: { POSTGRES_HOST: 'db', POSTGRES_MAX_CONNECTIONS: '3' } }).database,
    ).toEqual({
      kind: 'postgres',
      host: 'db',
      port: 5432,
      user: 'noetl',
      database: 'noetl',
      poolSize: 3,
    });
  });

  it('reads NATS settings only when NATS_URL is set, with the bus defaults', () => {
    const c = loadServerConfig({ env: { NATS_URL: 'nats://a:b@127.0.0.1:4222' } });
    expect(c.nats).toEqual({
      url: 'nats://a:b@127.0.0.1:4222',
      stream: NATS_DEFAULTS.stream,
      subject: NATS_DEFAULTS.subject,
      consumer: NATS_DEFAULTS.consumer,
      ackWaitMs: NATS_DEFAULTS.ackWaitMs,
      fetchExpiresMs: NATS_DEFAULTS.fetchExpiresMs,
      fetchHeartbeatMs: NATS_DEFAULTS.fetchHeartbeatMs,
      maxAckPending: NATS_DEFAULTS.maxAckPending,
      maxDeliver: NATS_DEFAULTS.maxDeliver,
    });
    const described = JSON.stringify(describeServerConfig(c));
    expect(described).not.toContain('a:b');
  });

  it('names the variable of every invalid value', () => {
    const bad: [Record<string, string>, RegExp][] = [
      [{ NOETL_PORT: 'abc' }, /NOETL_PORT \(env\) must be an integer 0-65535, got 'abc'/],
      [{ NOETL_PORT: '70000' }, /NOETL_PORT/],
      [{ NOETL_SERVER_MACHINE_ID: '1024' }, /NOETL_SERVER_MACHINE_ID/],
      [{ NOETL_EMBEDDED_WORKERS: '-1' }, /NOETL_EMBEDDED_WORKERS/],
      [{ NOETL_DISABLE_METRICS: 'maybe' }, /NOETL_DISABLE_METRICS \(env\) must be true or false/],
      [{ NOETL_LOG_LEVEL: 'loud' }, /NOETL_LOG_LEVEL .* must be one of trace, debug/],
      [{ NOETL_RUNTIME_SWEEP_INTERVAL: '0' }, /NOETL_RUNTIME_SWEEP_INTERVAL/],
      [{ NOETL_ENCRYPTION_KEY: 'c2hvcnQ=' }, /NOETL_ENCRYPTION_KEY must be the base64 of 32 random bytes/],
      [{ NOETL_DATABASE_URL: 'mysql://x' }, /NOETL_DATABASE_URL \(env\) must use postgres: or postgresql:/],
      [{ NOETL_PUBLIC_SERVER_URL: 'not a url' }, /NOETL_PUBLIC_SERVER_URL/],
      [{ NOETL_SCHEMA: 'Bad-Schema' }, /NOETL_SCHEMA/],
      [{ NATS_URL: 'nats://x', NATS_STREAM: 'a.b' }, /NATS_STREAM/],
    ];
    for (const [env, message] of bad) {
      expect(() => loadServerConfig({ env }), JSON.stringify(env)).toThrow(message);
      try {
        loadServerConfig({ env });
      } catch (error) {
        expect((error as { code?: string }).code).toBe('CONFIG_INVALID');
      }
    }
    expect(() => loadServerConfig({ file: { NOETL_PORT: { nested: 1 } } })).toThrow(
      /NOETL_PORT \(file\) must be a single value/,
    );
  });

  it('never shows a database password in an error or a description', () => {
    expect(() => loadServerConfig({ env: { NOETL_DATABASE_URL: 'mysql://u:hunter22@x' } })).not.toThrow(
      /hunter22/,
    );
    const c = loadServerConfig({
      env: {
        NOETL_DATABASE_URL: 'postgres://u:hunter22@x/db',
        NOETL_ENCRYPTION_KEY: KEY,
        NOETL_API_TOKEN: 'tok-1',
      },
    });
    const text = JSON.stringify(describeServerConfig(c));
    expect(text).not.toContain('hunter22');
    expect(text).not.toContain(KEY);
    expect(text).not.toContain('tok-1');
  });

  it('derives debug logging and the public URL', () => {
    expect(loadServerConfig({ env: { NOETL_DEBUG: 'true' } }).logLevel).toBe('debug');
    expect(loadServerConfig({ env: { NOETL_DEBUG: 'true', NOETL_LOG_LEVEL: 'warn' } }).logLevel).toBe('warn');
    expect(
      loadServerConfig({ env: { NOETL_PUBLIC_SERVER_URL: 'https://noetl.example/' } }).publicServerUrl,
    ).toBe('https://noetl.example');
  });
});

describe('loadWorkerConfig', () => {
  it('has the contract defaults', () => {
    const c = loadWorkerConfig({ env: {} });
    expect(c).toMatchObject({
      poolName: 'default',
      serverUrl: 'http://localhost:8082',
      heartbeatIntervalSeconds: 15,
      maxConcurrent: 4,
      metricsBind: { host: '127.0.0.1', port: 9090 },
    });
    expect(c.workerId).toMatch(/^.+-\d+-[0-9a-f]{6}$/);
  });

  it('reads the worker variables', () => {
    const c = loadWorkerConfig({
      env: {
        WORKER_ID: 'w1',
        WORKER_POOL_NAME: 'gpu',
        NOETL_SERVER_URL: 'http://server:8082/',
        WORKER_METRICS_BIND: '127.0.0.1:9191',
        NATS_URL: 'nats://n:4222',
        NOETL_API_TOKEN: 't',
      },
    });
    expect(c).toMatchObject({
      workerId: 'w1',
      poolName: 'gpu',
      serverUrl: 'http://server:8082',
      metricsBind: { host: '127.0.0.1', port: 9191 },
      nats: { url: 'nats://n:4222' },
      apiToken: 't',
    });
    expect(loadWorkerConfig({ env: { PORT: '7000' } }).metricsBind).toEqual({
      host: '127.0.0.1',
      port: 7000,
    });
    expect(() => loadWorkerConfig({ env: { WORKER_METRICS_BIND: 'nope' } })).toThrow(/WORKER_METRICS_BIND/);
    expect(() => loadWorkerConfig({ env: { WORKER_MAX_CONCURRENT: '0' } })).toThrow(/WORKER_MAX_CONCURRENT/);
  });
});

describe('ENV_VARS and config files', () => {
  it('lists each variable once, with a description, and prints help per process', () => {
    const names = ENV_VARS.map((v) => v.name);
    expect(new Set(names).size).toBe(names.length);
    for (const v of ENV_VARS) expect(v.description.length).toBeGreaterThan(5);
    expect(envVarsHelp('server')).toContain('NOETL_PORT');
    expect(envVarsHelp('server')).not.toContain('WORKER_POOL_NAME');
    expect(envVarsHelp('worker')).toContain('WORKER_POOL_NAME');
  });

  it('parses dotenv, JSON and YAML files', () => {
    expect(
      parseConfigText('# c\nexport NOETL_PORT=9000\nNOETL_HOST="127.0.0.1" \nX=a # note\n', '.env'),
    ).toEqual({
      NOETL_PORT: '9000',
      NOETL_HOST: '127.0.0.1',
      X: 'a',
    });
    expect(parseConfigText('{"NOETL_PORT": 9000}', '.json')).toEqual({ NOETL_PORT: 9000 });
    expect(parseConfigText('NOETL_PORT: 9000\n', '.yaml')).toEqual({ NOETL_PORT: 9000 });
    expect(() => parseConfigText('not a line', '.env')).toThrow(/expected NAME=value/);
    expect(() => parseConfigText('[1]', '.json')).toThrow(/must be a map/);
  });
});
