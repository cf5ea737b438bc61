import { createDecipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { TEST_KEY } from '../helpers/server-app.js';
import { expectError, json, type GetFixture } from './api.suite.js';

/** Opens an envelope with node:crypto directly (independent of the server's cipher). */
export function openEnvelope(stored: string, keyBase64: string): unknown {
  const env = JSON.parse(stored) as { ct: string; dek: { ct: string } };
  const open = (key: Buffer, b64: string): Buffer => {
    const raw = Buffer.from(b64, 'base64');
    const d = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
    d.setAuthTag(raw.subarray(raw.length - 16));
    return Buffer.concat([d.update(raw.subarray(12, raw.length - 16)), d.final()]);
  };
  const dek = open(Buffer.from(keyBase64, 'base64'), env.dek.ct);
  return JSON.parse(open(dek, env.ct).toString('utf8')) as unknown;
}

export function credentialTests(get: GetFixture): void {
  describe('credential routes', () => {
    const secret = `pw-${randomBytes(8).toString('hex')}`;
    const data = { db_host: 'localhost', db_port: 5432, db_user: 'noetl', db_password: secret };
    let id = '';

    it('stores a credential and never returns its data unless include_data=true', async () => {
      const { app } = get().server;
      const created = json(
        await app.inject({
          method: 'POST',
          url: '/api/credentials',
          payload: {
            name: 'pg_local',
            type: 'postgres',
            data,
            tags: ['db'],
            description: 'local pg',
            meta: { env: 'dev' },
          },
        }),
      );
      expect(created).toMatchObject({
        name: 'pg_local',
        type: 'postgres',
        tags: ['db'],
        description: 'local pg',
        meta: { env: 'dev' },
      });
      expect(created['id']).toMatch(/^\d+$/);
      expect(created).not.toHaveProperty('data');
      id = String(created['id']);
      const list = json<{ items: Record<string, unknown>[]; filter: unknown }>(
        await app.inject({ method: 'GET', url: '/api/credentials?type=postgres&q=local' }),
      );
      expect(list.filter).toEqual({ type: 'postgres', q: 'local' });
      expect(list.items.map((i) => i['name'])).toEqual(['pg_local']);
      expect(JSON.stringify(list)).not.toContain(secret);
      for (const url of [
        `/api/credentials/${id}`,
        '/api/credentials/pg_local',
        '/api/credentials/pg_local?include_data=false',
      ]) {
        const one = json(await app.inject({ method: 'GET', url }));
        expect(one).toMatchObject({ id, name: 'pg_local' });
        expect(one).not.toHaveProperty('data');
      }
      const withData = json(
        await app.inject({
          method: 'GET',
          url: '/api/credentials/pg_local?include_data=true&execution_id=1',
        }),
      );
      expect(withData['data']).toEqual(data);
    });

    it('keeps the data encrypted at rest in the contract envelope', async () => {
      const { rows } = await get().backend.store.query(
        `SELECT data_encrypted FROM "${get().backend.schema}".credential WHERE name = 'pg_local'`,
      );
      const stored = String(rows[0]?.['data_encrypted']);
      expect(stored).not.toContain(secret);
      expect(JSON.parse(stored)).toMatchObject({
        v: 1,
        alg: 'AES-256-GCM',
        dek: { p: 'local', kid: 'env:NOETL_ENCRYPTION_KEY', kv: 'v1' },
      });
      expect(openEnvelope(stored, TEST_KEY)).toEqual(data);
    });

    it('upserts by name keeping the id, and deletes', async () => {
      const { app } = get().server;
      const again = json(
        await app.inject({
          method: 'POST',
          url: '/api/credentials',
          payload: { name: 'pg_local', type: 'postgres', data: { db_password: 'new' } },
        }),
      );
      expect(again['id']).toBe(id);
      const one = json(await app.inject({ method: 'GET', url: `/api/credentials/${id}?include_data=1` }));
      expect(one['data']).toEqual({ db_password: 'new' });
      expect(json(await app.inject({ method: 'DELETE', url: '/api/credentials/pg_local' }))).toEqual({
        status: 'deleted',
        id,
        name: 'pg_local',
      });
      expectError(await app.inject({ method: 'GET', url: '/api/credentials/pg_local' }), 404, 'NOT_FOUND');
      expectError(await app.inject({ method: 'DELETE', url: '/api/credentials/pg_local' }), 404, 'NOT_FOUND');
    });

    it('refuses bad credential bodies and reports a row it cannot decrypt', async () => {
      const { app } = get().server;
      expectError(
        await app.inject({
          method: 'POST',
          url: '/api/credentials',
          payload: { name: 'x', type: 'y', data: 'str' },
        }),
        400,
      );
      expectError(
        await app.inject({
          method: 'POST',
          url: '/api/credentials',
          payload: { name: 'bad name!', type: 'y', data: {} },
        }),
        400,
      );
      await get().backend.store.credentials.upsert({
        name: 'legacy',
        type: 'generic',
        dataEncrypted: '{"password": "plain"}',
      });
      const res = expectError(
        await app.inject({ method: 'GET', url: '/api/credentials/legacy?include_data=true' }),
        500,
        'INTERNAL',
      );
      expect(String(res['error'])).toMatch(/internal server error/);
      expect(get().server.logs.join('\n')).toMatch(/re-register the secret/);
      await get().backend.store.credentials.delete('legacy');
    });

    it('never writes a secret to the log', () => {
      const logs = get().server.logs.join('\n');
      expect(logs).toContain('credential data read');
      expect(logs).not.toContain(secret);
    });
  });
}
