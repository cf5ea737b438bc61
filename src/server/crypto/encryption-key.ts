import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { checkEncryptionKey } from '../../config/index.js';
import type { ServerConfig } from '../../config/index.js';
import { ConfigError, errorMessage } from '../../shared/index.js';
import type { Logger } from '../../shared/index.js';

export const KEY_FILE_NAME = 'encryption.key';

export interface ResolvedKey {
  /** The 32 key bytes. */
  readonly key: Buffer;
  readonly source: 'env' | 'file' | 'generated' | 'ephemeral';
  /** The key file, for `file` and `generated`. */
  readonly file?: string;
}

type KeyConfig = Pick<ServerConfig, 'encryptionKey' | 'home' | 'database' | 'allowInsecureDefaultKey'>;

async function readKeyFile(file: string, logger: Logger): Promise<Buffer> {
  const text = await readFile(file, 'utf8');
  const key = Buffer.from(checkEncryptionKey(text.trim(), file), 'base64');
  const mode = (await stat(file)).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    logger.warn(
      { file, mode: mode.toString(8) },
      'encryption key file is readable by other users; run chmod 600 on it',
    );
  }
  return key;
}

/**
 * The key-encryption key of credentials (contract section 9):
 * - `NOETL_ENCRYPTION_KEY` when set;
 * - with the embedded database: `$NOETL_HOME/encryption.key`, generated once (mode 0600) when
 *   missing, which the log says (never the key itself);
 * - with PostgreSQL and no key: a ConfigError (the server refuses to start), unless
 *   `NOETL_ALLOW_INSECURE_DEFAULT_KEY=true` asks for a key that lives as long as the process.
 */
export async function resolveEncryptionKey(config: KeyConfig, logger: Logger): Promise<ResolvedKey> {
  if (config.encryptionKey !== undefined) {
    return { key: Buffer.from(checkEncryptionKey(config.encryptionKey), 'base64'), source: 'env' };
  }
  if (config.database.kind === 'postgres') {
    if (config.allowInsecureDefaultKey) {
      logger.warn(
        {},
        'NOETL_ENCRYPTION_KEY is not set: using a random key for this process only; credentials stored now become unreadable after a restart',
      );
      return { key: randomBytes(32), source: 'ephemeral' };
    }
    throw new ConfigError(
      'NOETL_ENCRYPTION_KEY is required with a PostgreSQL database (base64 of 32 bytes, e.g. `openssl rand -base64 32`)',
      { details: { variable: 'NOETL_ENCRYPTION_KEY' } },
    );
  }
  const file = join(config.home, KEY_FILE_NAME);
  try {
    return { key: await readKeyFile(file, logger), source: 'file', file };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      if (error instanceof ConfigError) throw error;
      throw new ConfigError(`cannot read ${file}: ${errorMessage(error)}`, { cause: error });
    }
  }
  await mkdir(config.home, { recursive: true, mode: 0o700 });
  const key = randomBytes(32);
  try {
    // `wx`: if another process created it meanwhile, use theirs.
    await writeFile(file, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    await chmod(file, 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      return { key: await readKeyFile(file, logger), source: 'file', file };
    }
    throw new ConfigError(`cannot write ${file}: ${errorMessage(error)}`, { cause: error });
  }
  logger.info(
    { file },
    'generated an encryption key for credentials (NOETL_ENCRYPTION_KEY was not set); keep this file: without it stored credentials cannot be read',
  );
  return { key, source: 'generated', file };
}
