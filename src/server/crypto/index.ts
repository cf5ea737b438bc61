export {
  ENVELOPE_ALG,
  ENVELOPE_VERSION,
  EnvelopeCipher,
  LOCAL_KEY_ID,
  LOCAL_KEY_VERSION,
  LOCAL_PROVIDER,
  gcmDecrypt,
  gcmEncrypt,
} from './envelope-cipher.js';
export type { SecretCipher } from './envelope-cipher.js';
export { KEY_FILE_NAME, resolveEncryptionKey } from './encryption-key.js';
export type { ResolvedKey } from './encryption-key.js';
