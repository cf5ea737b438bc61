import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isLoopbackHost, type ServerConfig } from '../config/index.js';
import { ConfigError, errorMessage, type Logger } from '../shared/index.js';

/**
 * The API token of a server that listens beyond loopback (DESIGN.md section 7). Given
 * (`NOETL_API_TOKEN`): used. Not given: read from `$NOETL_HOME/api-token`, or generated there once
 * (32 random bytes, base64url, mode 0600), where the CLI finds it for local servers. With
 * `NOETL_INSECURE` / `--insecure` the server starts open on purpose, with a warning.
 */

export const API_TOKEN_FILE = 'api-token';

export type ApiTokenSource = 'env' | 'file' | 'generated' | 'none-loopback' | 'none-insecure';

export interface ResolvedApiToken {
  /** The configuration with `apiToken` set when one applies. */
  readonly config: ServerConfig;
  readonly source: ApiTokenSource;
  readonly file?: string;
}

async function readTokenFile(file: string): Promise<string> {
  const token = (await readFile(file, 'utf8')).trim();
  if (token.length < 16)
    throw new ConfigError(`${file} holds no usable API token (remove it to generate one)`);
  return token;
}

/** Decides the token of a server about to listen on `config.host`; never logs the token. */
export async function resolveApiToken(config: ServerConfig, logger: Logger): Promise<ResolvedApiToken> {
  if (config.apiToken !== undefined) return { config, source: 'env' };
  if (isLoopbackHost(config.host)) {
    if (config.insecure) logger.info({}, 'NOETL_INSECURE has no effect on a loopback address');
    return { config, source: 'none-loopback' };
  }
  if (config.insecure) {
    logger.warn(
      { host: config.host },
      `INSECURE: listening on ${config.host} without an API token (--insecure / NOETL_INSECURE): anyone who can reach this port can run code here`,
    );
    return { config, source: 'none-insecure' };
  }
  const file = join(config.home, API_TOKEN_FILE);
  try {
    return { config: { ...config, apiToken: await readTokenFile(file) }, source: 'file', file };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      if (error instanceof ConfigError) throw error;
      throw new ConfigError(`cannot read ${file}: ${errorMessage(error)}`, { cause: error });
    }
  }
  await mkdir(config.home, { recursive: true, mode: 0o700 });
  const token = randomBytes(32).toString('base64url');
  try {
    // `wx`: if another process created it meanwhile, use theirs.
    await writeFile(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
    await chmod(file, 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      return { config: { ...config, apiToken: await readTokenFile(file) }, source: 'file', file };
    }
    throw new ConfigError(`cannot write ${file}: ${errorMessage(error)}`, { cause: error });
  }
  logger.info(
    { file },
    `listening on ${config.host} with a generated API token: clients send it as "Authorization: Bearer <token>" (the noetl CLI on this machine reads the file)`,
  );
  return { config: { ...config, apiToken: token }, source: 'generated', file };
}
