import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { NoetlError, errorMessage, isPlainObject } from '../../shared/index.js';
import type { JsonValue } from '../../shared/index.js';

/**
 * Envelope encryption of secrets at rest (contract section 9, the Rust server's "Secrets Wallet"):
 * a fresh 32-byte data key (DEK) per record encrypts the JSON value with AES-256-GCM; the DEK is
 * wrapped with the key-encryption key (KEK, `NOETL_ENCRYPTION_KEY`) the same way. The stored text
 * is the self-describing JSON
 *
 *   {"v":1,"alg":"AES-256-GCM","ct":"<b64>","dek":{"p":"local","kid":"env:NOETL_ENCRYPTION_KEY","kv":"v1","ct":"<b64>"}}
 *
 * Both `ct` fields are base64 of `nonce(12) || ciphertext || tag(16)`: the layout of Rust's
 * `aes-gcm` crate (tag appended to the ciphertext, nonce prepended), no associated data. `kv` is
 * "v1" as the Rust `LocalDevKms` writes it. Rows in this format interoperate with the Rust server
 * given the same KEK. There is no legacy fallback: a value that is not such an envelope is an
 * error telling the operator to re-register the secret.
 */

export const ENVELOPE_VERSION = 1;
export const ENVELOPE_ALG = 'AES-256-GCM';
export const LOCAL_PROVIDER = 'local';
export const LOCAL_KEY_ID = 'env:NOETL_ENCRYPTION_KEY';
export const LOCAL_KEY_VERSION = 'v1';

const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

/** Seals and opens secret JSON values; what the routes are given (tests may pass another). */
export interface SecretCipher {
  /** The stored text of `value`. */
  seal(value: JsonValue): string;
  /** The value of stored text; a NoetlError when it is not an envelope or does not open. */
  open(stored: string): JsonValue;
}

interface StoredEnvelope {
  readonly v: number;
  readonly alg: string;
  readonly ct: string;
  readonly dek: { readonly p: string; readonly kid: string; readonly kv: string; readonly ct: string };
}

/** AES-256-GCM of `plaintext` under `key`: `nonce || ciphertext || tag`. */
export function gcmEncrypt(key: Buffer, plaintext: Buffer): Buffer {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([nonce, body, cipher.getAuthTag()]);
}

/** Inverse of gcmEncrypt; throws when the tag does not verify (tampered, or another key). */
export function gcmDecrypt(key: Buffer, sealed: Buffer): Buffer {
  if (sealed.length < NONCE_BYTES + TAG_BYTES) throw new Error('ciphertext too short');
  const nonce = sealed.subarray(0, NONCE_BYTES);
  const tag = sealed.subarray(sealed.length - TAG_BYTES);
  const body = sealed.subarray(NONCE_BYTES, sealed.length - TAG_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', key, nonce);
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(body), decipher.final()]);
}

function unreadable(reason: string, cause?: unknown): NoetlError {
  return new NoetlError(
    'INTERNAL',
    `stored secret cannot be read (${reason}): re-register the secret, or start the server with the NOETL_ENCRYPTION_KEY it was stored with`,
    cause === undefined ? {} : { cause },
  );
}

function parseEnvelope(stored: string): StoredEnvelope {
  let value: unknown;
  try {
    value = JSON.parse(stored.trim());
  } catch (error) {
    throw unreadable('not a wallet envelope', error);
  }
  const dek: unknown = isPlainObject(value) ? value['dek'] : undefined;
  if (
    !isPlainObject(value) ||
    !isPlainObject(dek) ||
    typeof value['v'] !== 'number' ||
    typeof value['alg'] !== 'string' ||
    typeof value['ct'] !== 'string' ||
    typeof dek['p'] !== 'string' ||
    typeof dek['kid'] !== 'string' ||
    typeof dek['kv'] !== 'string' ||
    typeof dek['ct'] !== 'string'
  ) {
    throw unreadable('not a wallet envelope');
  }
  return value as unknown as StoredEnvelope;
}

export class EnvelopeCipher implements SecretCipher {
  private readonly kek: Buffer;

  /** `kek`: the 32 key bytes (decoded `NOETL_ENCRYPTION_KEY`). */
  constructor(kek: Buffer) {
    if (kek.length !== KEY_BYTES) throw new RangeError(`the encryption key must be ${KEY_BYTES} bytes`);
    this.kek = Buffer.from(kek);
  }

  static fromBase64(key: string): EnvelopeCipher {
    return new EnvelopeCipher(Buffer.from(key, 'base64'));
  }

  seal(value: JsonValue): string {
    const dek = randomBytes(KEY_BYTES);
    try {
      const envelope: StoredEnvelope = {
        v: ENVELOPE_VERSION,
        alg: ENVELOPE_ALG,
        ct: gcmEncrypt(dek, Buffer.from(JSON.stringify(value), 'utf8')).toString('base64'),
        dek: {
          p: LOCAL_PROVIDER,
          kid: LOCAL_KEY_ID,
          kv: LOCAL_KEY_VERSION,
          ct: gcmEncrypt(this.kek, dek).toString('base64'),
        },
      };
      return JSON.stringify(envelope);
    } finally {
      dek.fill(0);
    }
  }

  open(stored: string): JsonValue {
    const envelope = parseEnvelope(stored);
    if (envelope.v !== ENVELOPE_VERSION || envelope.alg !== ENVELOPE_ALG) {
      throw unreadable(`unsupported envelope v=${envelope.v} alg=${envelope.alg}`);
    }
    if (envelope.dek.p !== LOCAL_PROVIDER) {
      throw unreadable(`its key is held by provider '${envelope.dek.p}', this server has only 'local'`);
    }
    let dek: Buffer;
    try {
      dek = gcmDecrypt(this.kek, Buffer.from(envelope.dek.ct, 'base64'));
    } catch (error) {
      throw unreadable('its data key does not open with this encryption key', error);
    }
    try {
      const plain = gcmDecrypt(dek, Buffer.from(envelope.ct, 'base64'));
      return JSON.parse(plain.toString('utf8')) as JsonValue;
    } catch (error) {
      throw unreadable(`ciphertext does not verify: ${errorMessage(error)}`, error);
    } finally {
      dek.fill(0);
    }
  }
}
