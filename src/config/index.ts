/**
 * Configuration: one table of env vars, one loader per process (STYLE.md 14). Nothing else in
 * the codebase reads `process.env` for these settings; entry points pass it in.
 */
export { ENV_VARS, envVarSpec, envVarsHelp } from './env-vars.js';
export type { EnvVarName, EnvVarScope, EnvVarSpec } from './env-vars.js';
export { ConfigReader, expandPath } from './sources.js';
export type { ConfigSources, ConfigValues } from './sources.js';
export { readConfigFile, parseConfigText } from './config-file.js';
export type { NatsSettings } from './nats-settings.js';
export {
  LOG_LEVELS,
  checkEncryptionKey,
  describeServerConfig,
  isLoopbackHost,
  loadServerConfig,
} from './server-config.js';
export type {
  DatabaseConfig,
  LogLevel,
  PgliteDatabase,
  PostgresDatabase,
  ServerConfig,
} from './server-config.js';
export { readPlaybookLimits } from './playbook-limits.js';
export { readPythonPool, type PythonPoolSettings } from './python-pool.js';
export { readStepOutputMaxBytes } from './step-output.js';
export { readTracing } from './tracing.js';
export { loadWorkerConfig } from './worker-config.js';
export type { BindAddress, WorkerConfig } from './worker-config.js';
