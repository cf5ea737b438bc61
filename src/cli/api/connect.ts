// The client part alone: the worker's index also loads the tool registry (~0.5 s), which no API
// command uses.
import { ControlPlaneClient } from '../../client/index.js';
import { NoetlError } from '../../shared/index.js';
import { loadCliConfig, type CliConfig, type GlobalFlags } from '../cli-config.js';
import { localApiToken, resolveServer, type ResolvedServer } from '../context.js';
import type { CliContext } from '../main.js';

export interface Api {
  readonly client: ControlPlaneClient;
  readonly server: ResolvedServer;
  readonly config: CliConfig;
  /** The token the client sends (event streams are read with it too). */
  readonly apiToken?: string;
}

/** The API client of a command: the server from flags, env, context or the default (docs/cli.md). */
export async function connectApi(ctx: CliContext, flags: GlobalFlags): Promise<Api> {
  const config = loadCliConfig(ctx.env, flags);
  const server = await resolveServer(config);
  // NOETL_API_TOKEN, else the token a local server generated into $NOETL_HOME/api-token.
  const apiToken = config.apiToken ?? (await localApiToken(config.home, server.url));
  const client = new ControlPlaneClient({
    serverUrl: server.url,
    ...(apiToken !== undefined ? { apiToken } : {}),
  });
  if (ctx.debug()) process.stderr.write(`server: ${server.url} (from ${server.from})\n`);
  return { client, server, config, ...(apiToken !== undefined ? { apiToken } : {}) };
}

/** An execution id as the server takes it: decimal digits. */
export function executionId(raw: string): string {
  const id = raw.trim();
  if (!/^\d{1,20}$/.test(id)) {
    throw new NoetlError('USAGE', `execution id must be a decimal number, got '${raw}'`);
  }
  return id;
}
