// Unit tests of the nats tool's pure parts; operations against a real server are in
// test/tools/nats-tool.test.ts.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodePayload, encodePayload, globMatcher } from './codec.js';
import { DEFAULT_NATS_TIMEOUT_MS, readNatsConfig } from './config.js';
import { redactUrl } from './connection.js';
import { isRetryableNatsError, natsError } from './errors.js';

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

describe('nats config', () => {
  it('reads the operation, connection and encoding', () => {
    const cfg = readNatsConfig({
      operation: 'KV_GET',
      url: 'nats://a:4222, nats://b:4222',
      user: 'u',
      password: 'p',
      token: '',
      bucket: 'b',
    });
    expect(cfg).toMatchObject({
      operation: 'kv_get',
      connection: { servers: ['nats://a:4222', 'nats://b:4222'], user: 'u', password: 'p' },
      encoding: 'utf-8',
      timeoutMs: DEFAULT_NATS_TIMEOUT_MS,
    });
    expect(cfg.connection).not.toHaveProperty('token');
    expect(
      readNatsConfig({ operation: 'js_publish', servers: ['nats://x:1'], encoding: 'BASE64', timeout: 2 }),
    ).toMatchObject({ connection: { servers: ['nats://x:1'] }, encoding: 'base64', timeoutMs: 2000 });
  });

  it('falls back to env NATS_URL, and names what is missing or wrong', () => {
    expect(
      readNatsConfig({ operation: 'kv_keys' }, { NATS_URL: 'nats://env:4222' }).connection.servers,
    ).toEqual(['nats://env:4222']);
    expect(() => readNatsConfig({ operation: 'kv_keys' })).toThrow(/'url' \(or an 'auth' credential/);
    expect(() => readNatsConfig({ url: 'nats://x' })).toThrow("nats: 'operation' or 'op' is required");
    expect(() => readNatsConfig({ url: 'nats://x', operation: 'subscribe' })).toThrow(
      /unknown operation 'subscribe' \(supported: kv_get, .*js_stream_info\)/,
    );
    expect(() => readNatsConfig({ url: 'nats://x', operation: 'kv_get', encoding: 'latin1' })).toThrow(
      /'encoding' must be utf-8 or base64/,
    );
  });
});

describe('nats payloads', () => {
  it('encodes strings as they are, other values as JSON, base64 as bytes', () => {
    expect(text(encodePayload('héllo', 'utf-8', 'value'))).toBe('héllo');
    expect(text(encodePayload({ a: [1, true] }, 'utf-8', 'value'))).toBe('{"a":[1,true]}');
    expect(text(encodePayload(7, 'utf-8', 'value'))).toBe('7');
    expect(encodePayload(undefined, 'utf-8', 'value')).toHaveLength(0);
    expect([...encodePayload('AAEC /w==', 'base64', 'data')]).toEqual([0, 1, 2, 255]);
    expect(() => encodePayload('???', 'base64', 'data')).toThrow("nats: 'data' is not valid base64");
  });

  it('decodes JSON when asked and it parses, else text; base64 on request', () => {
    const bytes = new TextEncoder().encode('{"a":1}');
    expect(decodePayload(bytes, 'utf-8', true)).toEqual({ a: 1 });
    expect(decodePayload(bytes, 'utf-8', false)).toBe('{"a":1}');
    expect(decodePayload(new TextEncoder().encode('not json'), 'utf-8', true)).toBe('not json');
    expect(decodePayload(new Uint8Array([0, 1, 2, 255]), 'base64', true)).toBe('AAEC/w==');
  });

  it('matches kv_keys patterns as globs', () => {
    const m = globMatcher('user_4?_*');
    expect(['user_42_a', 'user_41_', 'user_4_a', 'xuser_42_a'].filter(m)).toEqual(['user_42_a', 'user_41_']);
    expect(globMatcher('a.b')('axb')).toBe(false);
    expect(globMatcher('*')('anything.at.all')).toBe(true);
  });
});

describe('nats errors', () => {
  const named = (name: string, extra: Record<string, unknown> = {}): Error =>
    Object.assign(new Error(name), { name }, extra);

  it('retries connection and timeout failures, not missing streams or auth', () => {
    expect(isRetryableNatsError(named('ConnectionError'))).toBe(true);
    expect(isRetryableNatsError(named('TimeoutError'))).toBe(true);
    expect(isRetryableNatsError(named('Error', { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isRetryableNatsError(named('JetStreamApiError', { status: 503 }))).toBe(true);
    expect(isRetryableNatsError(new Error('wrapped', { cause: named('RequestError') }))).toBe(true);
    expect(isRetryableNatsError(named('StreamNotFoundError', { code: 10059, status: 404 }))).toBe(false);
    expect(isRetryableNatsError(named('AuthorizationError'))).toBe(false);
    expect(natsError('kv_get', named('TimeoutError'), { bucket: 'b' })).toMatchObject({
      code: 'TOOL_FAILED',
      retryable: true,
      message: 'nats: kv_get: TimeoutError',
      details: { bucket: 'b', nats_error: 'TimeoutError' },
    });
  });
});

describe('nats connection errors', () => {
  it('never show a password or token of a url', () => {
    expect(redactUrl('nats://u:secret@h:4222')).toBe('nats://u:***@h:4222');
    expect(redactUrl('nats://tok3n@h:4222')).toBe('nats://***@h:4222');
    expect(redactUrl('nats://h:4222')).toBe('nats://h:4222');
  });
});

describe('nats tool loading', () => {
  it('imports @nats-io modules only as types or through await import() (STYLE.md 5)', () => {
    const dir = import.meta.dirname;
    const offenders: string[] = [];
    for (const name of readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))) {
      const source = readFileSync(join(dir, name), 'utf8');
      for (const m of source.matchAll(
        /(?:^|\n)\s*(?:import|export)\s+(?!type\s)[^;]*?from\s+['"](@nats-io\/[^'"]+)['"]/g,
      )) {
        offenders.push(`${name}: ${m[1]}`);
      }
    }
    expect(offenders).toEqual([]);
  });
});
