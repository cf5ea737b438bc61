import { randomBytes } from 'node:crypto';
import { readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TestBackend } from '../helpers/server-app.js';
import { pgliteBackend, postgresBackend, startTestServer } from '../helpers/server-app.js';

/**
 * Issue 4, "done when": a secret stored through /api/credentials (or the keychain) is nowhere in
 * plaintext: not in the PGlite files under NOETL_HOME, not in any PostgreSQL table, not in the log.
 * A non-secret marker written through /api/vars proves each scan would see plaintext.
 */

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(path)));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

/** For each needle, the files holding it (each file read once). */
async function filesContaining(dir: string, needles: readonly string[]): Promise<string[][]> {
  const hits: string[][] = needles.map(() => []);
  for (const file of await filesUnder(dir)) {
    const content = await readFile(file);
    needles.forEach((needle, i) => {
      if (content.includes(Buffer.from(needle, 'utf8'))) hits[i]?.push(file);
    });
  }
  return hits;
}

/** Every row of every table of the schema as text (what a dump would hold). */
async function dumpSchema(backend: TestBackend): Promise<string> {
  const { store, schema } = backend;
  const tables = await store.query(
    'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1',
    [schema],
  );
  let text = '';
  for (const row of tables.rows) {
    const name = String(row['table_name']);
    const rows = await store.query(`SELECT t::text AS line FROM "${schema}"."${name}" t`);
    text += rows.rows.map((r) => String(r['line'])).join('\n');
  }
  return text;
}

async function storeSecrets(backend: TestBackend) {
  const secret = `S3cret-${randomBytes(12).toString('hex')}`;
  const token = `Tok-${randomBytes(12).toString('hex')}`;
  const marker = `Marker-${randomBytes(12).toString('hex')}`;
  const server = await startTestServer(backend);
  try {
    const inject = (method: 'POST' | 'GET', url: string, payload?: object) =>
      server.app.inject({ method, url, ...(payload ? { payload } : {}) });
    expect(
      (
        await inject('POST', '/api/credentials', {
          name: 'pg_prod',
          type: 'postgres',
          data: { db_password: secret },
        })
      ).statusCode,
    ).toBe(200);
    expect(
      (
        await inject('POST', '/api/keychain/1/tok', {
          data: { access_token: token },
          renew_config: { client_secret: secret },
        })
      ).statusCode,
    ).toBe(200);
    expect(
      (await inject('POST', '/api/vars/1', { variables: [{ var_name: 'note', var_value: marker }] }))
        .statusCode,
    ).toBe(200);
    // reading the secrets back works (and must not log them either)
    const cred = await inject('GET', '/api/credentials/pg_prod?include_data=true');
    expect(cred.body).toContain(secret);
    expect((await inject('GET', '/api/keychain/1/tok')).body).toContain(token);
  } finally {
    await server.close();
  }
  const logs = server.logs.join('\n');
  expect(logs.length).toBeGreaterThan(0);
  expect(logs).not.toContain(secret);
  expect(logs).not.toContain(token);
  return { secret, token, marker };
}

describe('secrets at rest', () => {
  it('PGlite: no plaintext secret in any file under NOETL_HOME', async () => {
    const backend = await pgliteBackend();
    let closed = false;
    try {
      const { secret, token, marker } = await storeSecrets(backend);
      const dump = await dumpSchema(backend);
      expect(dump).toContain(marker);
      expect(dump).not.toContain(secret);
      expect(dump).not.toContain(token);
      await backend.store.close();
      closed = true;
      const [markerFiles, secretFiles, tokenFiles] = await filesContaining(backend.home, [
        marker,
        secret,
        token,
      ]);
      expect(markerFiles?.length).toBeGreaterThan(0);
      expect(secretFiles).toEqual([]);
      expect(tokenFiles).toEqual([]);
    } finally {
      if (closed) await rm(backend.home, { recursive: true, force: true });
      else await backend.dispose();
    }
  }, 120_000);

  it('PostgreSQL: no plaintext secret in any table of the schema', async () => {
    const backend = await postgresBackend();
    try {
      const { secret, token, marker } = await storeSecrets(backend);
      const dump = await dumpSchema(backend);
      expect(dump).toContain(marker);
      expect(dump).not.toContain(secret);
      expect(dump).not.toContain(token);
    } finally {
      await backend.dispose();
    }
  }, 60_000);
});
