// The env-var table directly: config/index.js would load `yaml` into every command's start-up.
import { envVarSpec, envVarsHelp, type EnvVarName } from '../../config/env-vars.js';

/** What the variables mean to the CLI, where that differs from the server's or worker's use. */
const CLI_MEANING: Partial<Record<EnvVarName, string>> = {
  NOETL_SERVER_URL: 'server the command talks to (after --server-url, --host/--port, --context)',
  NOETL_HOST: 'with NOETL_PORT and no NOETL_SERVER_URL: talk to http://NOETL_HOST:NOETL_PORT',
  NOETL_PORT: 'see NOETL_HOST (default 8082)',
  NOETL_HOME: 'config.yaml (contexts), PID files and logs/ (default ~/.noetl)',
  NOETL_API_TOKEN: 'bearer token sent to the server, when it requires one',
};

/** The API commands' variables. */
export const API_ENV: readonly EnvVarName[] = [
  'NOETL_SERVER_URL',
  'NOETL_HOST',
  'NOETL_PORT',
  'NOETL_API_TOKEN',
  'NOETL_HOME',
];

/** `Environment:` lines for `--help`, names and meanings from the ENV_VARS table. */
export function envHelp(names: readonly EnvVarName[]): string {
  const width = Math.max(...names.map((n) => n.length));
  const lines = names.map((n) => `  ${n.padEnd(width)}  ${CLI_MEANING[n] ?? envVarSpec(n).description}`);
  return `\nEnvironment:\n${lines.join('\n')}`;
}

/** Every variable a started process reads (server or worker), passed through unchanged. */
export function processEnvHelp(kind: 'server' | 'worker'): string {
  return `\nEnvironment (passed to the ${kind} process as it is; docs/configuration.md):\n${envVarsHelp(kind)}`;
}
