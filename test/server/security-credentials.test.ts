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

  it('never lets a name shadow another credential id', async () => {
    const a = await post('/api/credentials', {
      name: 'shadow_target',
      type: 'generic',
      data: { v: 'real' },
    });
    expect(a.statusCode, a.body).toBe(200);
    const id = a.json<{ id: string }>().id;
    // a name of digits (another's id) is refused, by POST, PATCH and the catalog
    const b = await post('/api/credentials', {
      name: id,
      type: 'generic',
      data: { v: 'impostor' },
    });
    expect(b.statusCode).toBe(400);
    expect(b.json()).toMatchObject({ code: 'BAD_REQUEST' });
    const patch = await s.app.inject({
      method: 'PATCH',
      url: '/api/credentials/shadow_target',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ name: id }),
    });
    expect(patch.statusCode).toBe(400);
    // one already stored with such a name (older servers allowed it) does not shadow the id
    await backend.store.credentials.upsert({
      name: id,
      type: 'generic',
      dataEncrypted: s.cipher.seal({ v: 'legacy' }),
    });
    const byId = await s.app.inject({
      method: 'GET',
      url: `/api/credentials/${id}?include_data=true`,
    });
    expect(byId.json()).toMatchObject({
      id,
      name: 'shadow_target',
      data: { v: 'real' },
    });
    const byName = await s.app.inject({
      method: 'GET',
      url: '/api/credentials/shadow_target',
    });
    expect(byName.json()).toMatchObject({ id });
    // delete by id removes that credential, not the one named like it
    const del = await s.app.inject({
      method: 'DELETE',
      url: `/api/credentials/${id}`,
    });
    expect(del.json()).toMatchObject({ id, name: 'shadow_target' });
  });
});
