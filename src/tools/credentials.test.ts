import { describe, expect, it } from 'vitest';
import { applyToolAuth, authAlias, credentialFields } from './credentials.js';
import type { CredentialRecord, ToolServices } from './types.js';
import { SecretRegistry } from '../shared/index.js';

const pg: CredentialRecord = {
  name: 'pg_local',
  type: 'postgres',
  data: { db_host: 'h', db_port: 5433, db_user: 'u', db_password: 'p4ssword', db_name: 'd' },
};

describe('credential mapping (contract 9)', () => {
  it('maps postgres credentials to postgres fields, with either naming', () => {
    expect(credentialFields('postgres', pg)).toEqual({
      host: 'h',
      port: 5433,
      user: 'u',
      password: 'p4ssword',
      database: 'd',
    });
    expect(
      credentialFields('postgres', {
        name: 'x',
        type: 'postgresql',
        data: { host: 'h', user: 'u', database: 'd', dsn: 'postgres://h/d' },
      }),
    ).toEqual({ host: 'h', user: 'u', database: 'd', connection_string: 'postgres://h/d' });
  });

  it('maps bearer, basic and api_key credentials to an http auth map', () => {
    expect(
      credentialFields('http', { name: 'a', type: 'bearer_token', data: { access_token: 't' } }),
    ).toEqual({
      auth: { type: 'bearer', token: 't' },
    });
    expect(
      credentialFields('http', { name: 'a', type: 'basic', data: { user: 'u', password: 'p' } }),
    ).toEqual({
      auth: { type: 'basic', username: 'u', password: 'p' },
    });
    expect(
      credentialFields('http', { name: 'a', type: 'api_key', data: { api_key: 'k', header: 'X-K' } }),
    ).toEqual({
      auth: { type: 'api_key', token: 'k', header: 'X-K' },
    });
  });

  it('maps nats credentials, prefixed names accepted', () => {
    expect(
      credentialFields('nats', {
        name: 'n',
        type: 'nats',
        data: { nats_url: 'nats://x:4222', nats_token: 't' },
      }),
    ).toEqual({
      url: 'nats://x:4222',
      token: 't',
    });
  });

  it('rejects a type the target cannot use, and unknown types, listing what is supported', () => {
    expect(() => credentialFields('postgres', { name: 'api', type: 'bearer', data: {} })).toThrow(
      "credential 'api' has type 'bearer', which a postgres tool cannot use (supported: postgres)",
    );
    expect(() => credentialFields('http', { name: 'g', type: 'gcp_adc', data: {} })).toThrow(
      /unsupported type 'gcp_adc' \(supported: postgres, bearer, basic, api_key, nats; a http tool takes bearer, basic, api_key\)/,
    );
  });

  it('finds the alias in auth (string or map) or credential', () => {
    expect(authAlias({ auth: ' pg ' })).toBe('pg');
    expect(authAlias({ auth: { credential: 'c' } })).toBe('c');
    expect(authAlias({ credential: 'c2' })).toBe('c2');
    expect(authAlias({ auth: { type: 'bearer', token: 't' } })).toBeUndefined();
  });

  it('applies a credential: explicit config wins, auth removed, secrets registered', async () => {
    const secrets = new SecretRegistry();
    const services: ToolServices = { resolveCredential: () => Promise.resolve(pg), secrets };
    const signal = new AbortController().signal;
    expect(
      await applyToolAuth(
        'postgres',
        { auth: 'pg_local', database: 'other', port: null, query: 'q' },
        services,
        signal,
      ),
    ).toEqual({
      host: 'h',
      port: 5433,
      user: 'u',
      password: 'p4ssword',
      database: 'other',
      query: 'q',
    });
    expect(secrets.redact('pw p4ssword')).toBe('pw ***');
    await expect(applyToolAuth('postgres', { auth: 'pg_local' }, {}, signal)).rejects.toMatchObject({
      code: 'CREDENTIAL_NOT_FOUND',
      message: "credential 'pg_local' cannot be resolved here: no credential source is configured",
    });
    const http = await applyToolAuth(
      'http',
      { url: 'u', auth: { credential: 'api', header: 'X-Key' } },
      { resolveCredential: () => Promise.resolve({ name: 'api', type: 'api_key', data: { api_key: 'k' } }) },
      signal,
    );
    expect(http).toEqual({ url: 'u', auth: { type: 'api_key', token: 'k', header: 'X-Key' } });
  });
});
