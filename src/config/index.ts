/**
 * Configuration: one table of env vars, one loader per process (STYLE.md 14). Nothing else in
 * the codebase reads `process.env` for these settings; entry points pass it in.
 */
export { ENV_VARS, envVarSpec, envVarsHelp } from './env-vars.js';
export type { EnvVarName } from './env-vars.js';
export { ConfigReader } from './sources.js';
export type { ConfigValues } from './sources.js';
export type { NatsSettings } from './nats-settings.js';
export { checkEncryptionKey, isLoopbackHost, loadServerConfig } from './server-config.js';
export type { LogLevel, ServerConfig } from './server-config.js';
export { readPlaybookLimits } from './playbook-limits.js';
export { readPythonPool } from './python-pool.js';
export { readStepOutputMaxBytes } from './step-output.js';
export { readTracing } from './tracing.js';
export { loadWorkerConfig } from './worker-config.js';
export type { WorkerConfig } from './worker-config.js';
