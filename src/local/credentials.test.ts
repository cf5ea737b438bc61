import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SecretRegistry } from '../shared/index.js';
import { credentialEnvName, LocalCredentials, parseCredentialsText } from './credentials.js';

const dir = mkdtempSync(join(tmpdir(), 'noetl-creds-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const home = join(dir, 'home');
const file = join(dir, 'creds.json');
writeFileSync(
  file,
  JSON.stringify([
    { name: 'pg_local', type: 'postgres', data: { db_host: 'from-file', db_password: 'file-pass' } },
    { name: 'shared', type: 'bearer', data: { token: 'file-token' } },
  ]),
);
writeFileSync(join(dir, 'empty.yaml'), '');
mkdirSync(home, { recursive: true });

describe('local credentials', () => {
  it('looks in --credentials, then $NOETL_HOME/credentials.yaml, then NOETL_CREDENTIAL_<ALIAS>', async () => {
    writeFileSync(
      join(home, 'credentials.yaml'),
      'credentials:\n  - name: shared\n    type: bearer\n    data: {token: home-token}\n  - name: api\n    type: api_key\n    data: {api_key: home-key}\n',
    );
    const secrets = new SecretRegistry();
    const creds = new LocalCredentials({
      file,
      env: {
        NOETL_HOME: home,
        NOETL_CREDENTIAL_PG_K8S: '{"type": "postgres", "data": {"host": "from-env"}}',
      },
      secrets,
    });
    expect(await creds.resolve('pg_local')).toEqual({
      name: 'pg_local',
      type: 'postgres',
      data: { db_host: 'from-file', db_password: 'file-pass' },
    });
    expect((await creds.resolve('shared')).data).toEqual({ token: 'file-token' });
    expect((await creds.resolve('api')).data).toEqual({ api_key: 'home-key' });
    expect(await creds.resolve('pg-k8s')).toMatchObject({ type: 'postgres', data: { host: 'from-env' } });
    expect(secrets.redact('file-pass file-token home-key from-file')).toBe('*** *** *** from-file');
  });

  it('names the alias and every place it looked when it is unknown', async () => {
    const creds = new LocalCredentials({ file, env: { NOETL_HOME: join(dir, 'nowhere') } });
    await expect(creds.resolve('pg.test')).rejects.toMatchObject({
      code: 'CREDENTIAL_NOT_FOUND',
      message: `credential 'pg.test' not found; looked in: --credentials ${file}, ${join(dir, 'nowhere', 'credentials.yaml')} (no such file), env NOETL_CREDENTIAL_PG_TEST (not set)`,
    });
  });

  it('rejects malformed files and env values without echoing them', async () => {
    expect(() => parseCredentialsText('- {name: x}', 'f.yaml')).toThrow(
      "f.yaml: credential 'x' needs a 'type'",
    );
    expect(() => parseCredentialsText('[{type: postgres}]', 'f.yaml')).toThrow(
      "f.yaml: entry 0 needs a 'name'",
    );
    expect(parseCredentialsText('x: {type: basic, username: u, password: p}', 'f.yaml').get('x')).toEqual({
      name: 'x',
      type: 'basic',
      data: { username: 'u', password: 'p' },
    });
    const creds = new LocalCredentials({
      env: { NOETL_HOME: home, NOETL_CREDENTIAL_BAD: 'secret-not-json' },
    });
    const err = await creds.resolve('bad').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'CONFIG_INVALID' });
    expect((err as Error).message).not.toContain('secret-not-json');
    await expect(
      new LocalCredentials({ file: join(dir, 'missing.yaml'), env: {} }).resolve('x'),
    ).rejects.toMatchObject({
      code: 'FILE_NOT_FOUND',
    });
    expect(credentialEnvName('pg-k8s.main')).toBe('NOETL_CREDENTIAL_PG_K8S_MAIN');
  });
});
