import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { EnvelopeCipher } from './envelope-cipher.js';

/**
 * An independent implementation of the contract's envelope with node:crypto only, to check that
 * rows interoperate both ways (as they must with the Rust server given the same key).
 */
const independent = {
  seal(kek: Buffer, value: unknown): string {
    const gcm = (key: Buffer, data: Buffer): string => {
      const nonce = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', key, nonce);
      const body = Buffer.concat([c.update(data), c.final()]);
      return Buffer.concat([nonce, body, c.getAuthTag()]).toString('base64');
    };
    const dek = randomBytes(32);
    return JSON.stringify({
      v: 1,
      alg: 'AES-256-GCM',
      ct: gcm(dek, Buffer.from(JSON.stringify(value))),
      dek: { p: 'local', kid: 'env:NOETL_ENCRYPTION_KEY', kv: 'v1', ct: gcm(kek, dek) },
    });
  },
  open(kek: Buffer, stored: string): unknown {
    const env = JSON.parse(stored) as { ct: string; dek: { ct: string } };
    const ungcm = (key: Buffer, b64: string): Buffer => {
      const raw = Buffer.from(b64, 'base64');
      const d = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
      d.setAuthTag(raw.subarray(raw.length - 16));
      return Buffer.concat([d.update(raw.subarray(12, raw.length - 16)), d.final()]);
    };
    return JSON.parse(ungcm(ungcm(kek, env.dek.ct), env.ct).toString('utf8')) as unknown;
  },
};

const kek = randomBytes(32);
const cipher = new EnvelopeCipher(kek);
const value = { db_host: 'pg', db_password: 'p@ss;\'"\u00e9', port: 5432, nested: { list: [1, null, true] } };

describe('EnvelopeCipher', () => {
  it('round-trips JSON values with a fresh data key per record', () => {
    const a = cipher.seal(value);
    const b = cipher.seal(value);
    expect(cipher.open(a)).toEqual(value);
    expect(a).not.toBe(b);
    const ea = JSON.parse(a) as { ct: string; dek: { ct: string } };
    const eb = JSON.parse(b) as { ct: string; dek: { ct: string } };
    expect(ea.dek.ct).not.toBe(eb.dek.ct);
    for (const v of ['text', 42, null, [1, 2], {}]) expect(cipher.open(cipher.seal(v))).toEqual(v);
  });

  it('writes the contract envelope: nonce(12) || ciphertext || tag(16), base64', () => {
    const stored = cipher.seal({ a: 1 });
    expect(Object.keys(JSON.parse(stored) as object)).toEqual(['v', 'alg', 'ct', 'dek']);
    const env = JSON.parse(stored) as { v: number; alg: string; ct: string; dek: Record<string, string> };
    expect(env).toMatchObject({
      v: 1,
      alg: 'AES-256-GCM',
      dek: { p: 'local', kid: 'env:NOETL_ENCRYPTION_KEY', kv: 'v1' },
    });
    expect(Buffer.from(env.ct, 'base64').length).toBe(12 + Buffer.byteLength('{"a":1}') + 16);
    expect(Buffer.from(env.dek['ct'] ?? '', 'base64').length).toBe(12 + 32 + 16);
    expect(stored).not.toContain('"a":1');
  });

  it('interoperates with an independent implementation both ways', () => {
    expect(independent.open(kek, cipher.seal(value))).toEqual(value);
    expect(cipher.open(independent.seal(kek, value))).toEqual(value);
  });

  it('detects tampering of the ciphertext, the wrapped key and the nonce', () => {
    const stored = cipher.seal(value);
    const env = JSON.parse(stored) as { ct: string; dek: { ct: string } };
    const flip = (b64: string, at: number): string => {
      const raw = Buffer.from(b64, 'base64');
      raw[at] = (raw[at] ?? 0) ^ 0x01;
      return raw.toString('base64');
    };
    const variants = [
      { ...env, ct: flip(env.ct, 20) },
      { ...env, ct: flip(env.ct, 0) },
      { ...env, ct: flip(env.ct, Buffer.from(env.ct, 'base64').length - 1) },
      { ...env, dek: { ...env.dek, ct: flip(env.dek.ct, 15) } },
      { ...env, ct: Buffer.from(env.ct, 'base64').subarray(0, 20).toString('base64') },
    ];
    for (const v of variants) expect(() => cipher.open(JSON.stringify(v))).toThrow(/re-register the secret/);
  });

  it('refuses another key, a foreign provider and anything that is not an envelope', () => {
    const stored = cipher.seal(value);
    expect(() => new EnvelopeCipher(randomBytes(32)).open(stored)).toThrow(
      /does not open with this encryption key/,
    );
    const env = JSON.parse(stored) as Record<string, unknown> & { dek: Record<string, unknown> };
    expect(() => cipher.open(JSON.stringify({ ...env, dek: { ...env.dek, p: 'gcp-kms' } }))).toThrow(
      /gcp-kms/,
    );
    expect(() => cipher.open(JSON.stringify({ ...env, v: 2 }))).toThrow(/unsupported envelope/);
    for (const legacy of ['{"password":"plain"}', 'AAAAlegacy-base64==', '', 'null', '[]']) {
      expect(() => cipher.open(legacy)).toThrow(/re-register the secret/);
    }
    expect(() => new EnvelopeCipher(randomBytes(16))).toThrow(/32 bytes/);
  });
});
