import { describe, expect, it } from 'vitest';
import {
  isSecretKey,
  redactSecretText,
  redactSecretValues,
  scrubSecrets,
  SecretRegistry,
} from './secrets.js';

describe('isSecretKey', () => {
  it.each([
    'password',
    'db_password',
    'token',
    'access_token',
    'accessToken',
    'client_secret',
    'api_key',
    'apiKey',
    'X-API-Key',
    'apikey',
    'Authorization',
    'private_key',
    'encryption_key',
    'secret',
    'Cookie',
  ])('%s is secret', (key) => expect(isSecretKey(key)).toBe(true));

  it.each([
    'total_tokens',
    'max_tokens',
    'user',
    'host',
    'key',
    'primary_key_column',
    'credential',
    'auth',
    'name',
  ])('%s is not', (key) => expect(isSecretKey(key)).toBe(false));
});

describe('scrubSecrets', () => {
  it('replaces secret-looking keys and known values, deeply, without mutating', () => {
    const input = {
      user: 'app',
      password: 'hunter22',
      nested: [{ headers: { Authorization: 'Bearer abc' } }, 'said s3cr3t-value here'],
      n: 1,
      empty_token: null,
      url: 'postgres://app:pw1234@db:5432/x',
    };
    const copy = JSON.parse(JSON.stringify(input)) as typeof input;
    expect(scrubSecrets(input, ['s3cr3t-value'])).toEqual({
      user: 'app',
      password: '***',
      nested: [{ headers: { Authorization: '***' } }, 'said *** here'],
      n: 1,
      empty_token: null,
      url: 'postgres://app:***@db:5432/x',
    });
    expect(input).toEqual(copy);
  });

  it('shares unchanged parts', () => {
    const inner = { a: [1, 2], b: 'plain' };
    const value = { inner, other: 'x' };
    expect(scrubSecrets(value)).toBe(value);
  });

  it('redactSecretValues leaves keys alone', () => {
    expect(
      redactSecretValues({ password: '{{ keychain.x.password }}', note: 'pw is hunter22' }, ['hunter22']),
    ).toEqual({
      password: '{{ keychain.x.password }}',
      note: 'pw is ***',
    });
  });
});

describe('SecretRegistry', () => {
  it('redacts registered values, longest first, ignoring very short ones', () => {
    const secrets = new SecretRegistry();
    secrets.add('abc'); // too short to redact by value
    secrets.add('token-123');
    secrets.add('token-123-extended');
    secrets.addSecretFields({ host: 'db.local', password: 'pa"ss\\word', nested: { api_key: 98765 } });
    secrets.addAll({ map: { a: 'static-one' } });
    expect(secrets.redact('x token-123-extended y token-123 abc db.local 98765 static-one')).toBe(
      'x *** y *** abc db.local *** ***',
    );
    // The JSON-escaped form of a value is known too (secrets inside serialised text).
    expect(secrets.redact(JSON.stringify({ s: 'pa"ss\\word' }))).toBe('{"s":"***"}');
    expect(redactSecretText('postgres://u:p4ss@h/db', secrets)).toBe('postgres://u:***@h/db');
  });
});
