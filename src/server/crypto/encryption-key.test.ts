import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Logger } from '../../shared/index.js';
import { resolveEncryptionKey } from './encryption-key.js';

const dirs: string[] = [];
async function home(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'noetl-key-'));
  dirs.push(dir);
  return join(dir, 'home');
}
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const log = (obj: Record<string, unknown>, msg?: string) =>
    lines.push(`${msg ?? ''} ${JSON.stringify(obj)}`);
  const logger: Logger & { lines: string[] } = {
    lines,
    debug: log,
    info: log,
    warn: log,
    error: log,
    child: () => logger,
  };
  return logger;
}

const pglite = (dir: string) => ({ kind: 'pglite' as const, dataDir: join(dir, 'data') });
const postgres = {
  kind: 'postgres' as const,
  host: 'h',
  port: 5432,
  user: 'u',
  database: 'd',
  poolSize: 1,
};

describe('resolveEncryptionKey', () => {
  it('uses NOETL_ENCRYPTION_KEY when set', async () => {
    const key = randomBytes(32);
    const dir = await home();
    const got = await resolveEncryptionKey(
      {
        encryptionKey: key.toString('base64'),
        home: dir,
        database: postgres,
        allowInsecureDefaultKey: false,
      },
      recordingLogger(),
    );
    expect(got.source).toBe('env');
    expect(got.key.equals(key)).toBe(true);
  });

  it('generates a key once into $NOETL_HOME with mode 0600 for the embedded database, and says so', async () => {
    const dir = await home();
    const logger = recordingLogger();
    const first = await resolveEncryptionKey(
      { home: dir, database: pglite(dir), allowInsecureDefaultKey: false },
      logger,
    );
    expect(first.source).toBe('generated');
    expect(first.file).toBe(join(dir, 'encryption.key'));
    expect((await stat(join(dir, 'encryption.key'))).mode & 0o777).toBe(0o600);
    expect(first.key.length).toBe(32);
    const text = await readFile(join(dir, 'encryption.key'), 'utf8');
    expect(Buffer.from(text.trim(), 'base64').equals(first.key)).toBe(true);
    expect(logger.lines.join('\n')).toMatch(/generated an encryption key/);
    expect(logger.lines.join('\n')).not.toContain(first.key.toString('base64'));
    const again = await resolveEncryptionKey(
      { home: dir, database: pglite(dir), allowInsecureDefaultKey: false },
      logger,
    );
    expect(again.source).toBe('file');
    expect(again.key.equals(first.key)).toBe(true);
  });

  it('warns about a key file others can read, and refuses a malformed one', async () => {
    const dir = await home();
    const logger = recordingLogger();
    await resolveEncryptionKey({ home: dir, database: pglite(dir), allowInsecureDefaultKey: false }, logger);
    await chmod(join(dir, 'encryption.key'), 0o644);
    await resolveEncryptionKey({ home: dir, database: pglite(dir), allowInsecureDefaultKey: false }, logger);
    expect(logger.lines.join('\n')).toMatch(/readable by other users/);
    await writeFile(join(dir, 'encryption.key'), 'short\n');
    await expect(
      resolveEncryptionKey({ home: dir, database: pglite(dir), allowInsecureDefaultKey: false }, logger),
    ).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });

  it('refuses to start on PostgreSQL without a key, unless an ephemeral key is allowed', async () => {
    const dir = await home();
    await expect(
      resolveEncryptionKey(
        { home: dir, database: postgres, allowInsecureDefaultKey: false },
        recordingLogger(),
      ),
    ).rejects.toThrow(/NOETL_ENCRYPTION_KEY is required with a PostgreSQL database/);
    const logger = recordingLogger();
    const ephemeral = await resolveEncryptionKey(
      { home: dir, database: postgres, allowInsecureDefaultKey: true },
      logger,
    );
    expect(ephemeral.source).toBe('ephemeral');
    expect(logger.lines.join('\n')).toMatch(/random key for this process only/);
  });
});
