/**
 * Credentials through the HTTP API (issue 10 items 14 and 21): a `kind: Credential` document
 * registered in the catalog is stored encrypted, never in clear; and a credential named like
 * another's id cannot shadow it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  pgliteBackend,
  postgresBackend,
  startTestServer,
  type BackendFactory,
  type TestBackend,
  type TestServer,
} from '../helpers/server-app.js';

const SECRET = 'hunter2-catalog-secret';
const CREDENTIAL_YAML = `apiVersion: noetl.io/v2
kind: Credential
metadata:
  name: pg_catalog_cred
  description: registered through the catalog
spec:
  type: postgres
  data:
    host: db.internal
    password: ${SECRET}
`;

describe.each([
  ['PGlite', pgliteBackend],
  ['PostgreSQL', postgresBackend],
] as [string, BackendFactory][])('credentials on %s', (_name, factory) => {
  let backend: TestBackend;
  let s: TestServer;
  beforeAll(async () => {
    backend = await factory();
    s = await startTestServer(backend);
  }, 120_000);
  afterAll(async () => {
    await s?.close();
    await backend?.dispose();
  });

  const post = (url: string, body: unknown) =>
    s.app.inject({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify(body),
    });

  it('stores a kind: Credential registered in the catalog encrypted, not in the catalog', async () => {
    for (const content of [CREDENTIAL_YAML, Buffer.from(CREDENTIAL_YAML).toString('base64')]) {
      const res = await post('/api/catalog/register', { content });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toMatchObject({ status: 'success', kind: 'credential', path: 'pg_catalog_cred' });
      expect(res.body).not.toContain(SECRET);
    }
    const list = await post('/api/catalog/list', {});
    expect(list.body).not.toContain(SECRET);
    expect(list.json<{ entries: { path: string }[] }>().entries.map((e) => e.path)).not.toContain(
      'pg_catalog_cred',
    );
    // nowhere in the database in clear
    const rows = await backend.store.query(
      `SELECT (SELECT count(*) FROM ${backend.schema}.catalog WHERE content LIKE $1) AS in_catalog,
              (SELECT count(*) FROM ${backend.schema}.credential WHERE data_encrypted LIKE $1) AS in_clear`,
      [`%${SECRET}%`],
    );
    expect(rows.rows[0]).toMatchObject({ in_catalog: expect.anything(), in_clear: expect.anything() });
    expect(Number(rows.rows[0]?.['in_catalog'])).toBe(0);
    expect(Number(rows.rows[0]?.['in_clear'])).toBe(0);
    // readable through the credential API, decrypted
    const one = await s.app.inject({
      method: 'GET',
      url: '/api/credentials/pg_catalog_cred?include_data=true',
    });
    expect(one.json()).toMatchObject({
      name: 'pg_catalog_cred',
      type: 'postgres',
      description: 'registered through the catalog',
      data: { host: 'db.internal', password: SECRET },
    });
    // an incomplete Credential is refused, and not kept anywhere
    const bad = await post('/api/catalog/register', {
      content: `kind: Credential\nmetadata: {name: half}\nspec: {data: {password: ${SECRET}-2}}\n`,
    });
    expect(bad.statusCode).toBe(422);
    expect((await post('/api/catalog/list', {})).body).not.toContain(`${SECRET}-2`);
  });

  it('never lets a name shadow another credential id', async () => {
    const a = await post('/api/credentials', { name: 'shadow_target', type: 'generic', data: { v: 'real' } });
    expect(a.statusCode, a.body).toBe(200);
    const id = a.json<{ id: string }>().id;
    // a name of digits (another's id) is refused, by POST, PATCH and the catalog
    const b = await post('/api/credentials', { name: id, type: 'generic', data: { v: 'impostor' } });
    expect(b.statusCode).toBe(400);
    expect(b.json()).toMatchObject({ code: 'BAD_REQUEST' });
    const patch = await s.app.inject({
      method: 'PATCH',
      url: '/api/credentials/shadow_target',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ name: id }),
    });
    expect(patch.statusCode).toBe(400);
    const viaCatalog = await post('/api/catalog/register', {
      content: `kind: Credential\nmetadata: {name: "${id}"}\nspec: {type: generic, data: {v: impostor}}\n`,
    });
    expect(viaCatalog.statusCode).toBe(400);
    // one already stored with such a name (older servers allowed it) does not shadow the id
    await backend.store.credentials.upsert({
      name: id,
      type: 'generic',
      dataEncrypted: s.cipher.seal({ v: 'legacy' }),
    });
    const byId = await s.app.inject({ method: 'GET', url: `/api/credentials/${id}?include_data=true` });
    expect(byId.json()).toMatchObject({ id, name: 'shadow_target', data: { v: 'real' } });
    const byName = await s.app.inject({ method: 'GET', url: '/api/credentials/shadow_target' });
    expect(byName.json()).toMatchObject({ id });
    // delete by id removes that credential, not the one named like it
    const del = await s.app.inject({ method: 'DELETE', url: `/api/credentials/${id}` });
    expect(del.json()).toMatchObject({ id, name: 'shadow_target' });
  });
});
