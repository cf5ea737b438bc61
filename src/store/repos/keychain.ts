import { NoetlError } from '../../shared/index.js';
import type { KeychainStore } from '../ports.js';
import type { KeychainInput, KeychainRecord } from '../records.js';
import { jsonParam, opt } from '../rows.js';
import type { RepoContext } from './context.js';
import { toKeychain } from './mappers.js';

export class SqlKeychainStore implements KeychainStore {
  constructor(private readonly ctx: RepoContext) {}

  async put(input: KeychainInput): Promise<KeychainRecord> {
    const result = await this.ctx.db.query(this.ctx.sql.keychain.put, [
      input.cacheKey,
      input.keychainName,
      input.catalogId,
      input.credentialType,
      input.cacheType,
      input.scopeType,
      opt(input.executionId),
      opt(input.parentExecutionId),
      input.dataEncrypted,
      jsonParam(input.schema),
      input.expiresAt,
      input.autoRenew ?? false,
      jsonParam(input.renewConfig),
    ]);
    const row = result.rows[0];
    if (!row) throw new NoetlError('DB_ERROR', `keychain put of ${input.cacheKey} returned no row`);
    return toKeychain(row);
  }

  async get(cacheKey: string): Promise<KeychainRecord | undefined> {
    const row = (await this.ctx.db.query(this.ctx.sql.keychain.get, [cacheKey])).rows[0];
    return row ? toKeychain(row) : undefined;
  }

  async delete(cacheKey: string): Promise<boolean> {
    return (await this.ctx.db.query(this.ctx.sql.keychain.delete, [cacheKey])).rowCount > 0;
  }

  async listByCatalog(catalogId: string): Promise<KeychainRecord[]> {
    return (await this.ctx.db.query(this.ctx.sql.keychain.listByCatalog, [catalogId])).rows.map(toKeychain);
  }

  async purgeExpired(): Promise<number> {
    return (await this.ctx.db.query(this.ctx.sql.keychain.purgeExpired)).rowCount;
  }
}
