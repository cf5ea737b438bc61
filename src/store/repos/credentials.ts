import { NoetlError } from '../../shared/index.js';
import type { CredentialListOptions, CredentialStore } from '../ports.js';
import type { CredentialInput, CredentialRecord, CredentialSummary } from '../records.js';
import { jsonParam, opt } from '../rows.js';
import type { RepoContext } from './context.js';
import { toCredential, toCredentialSummary } from './mappers.js';

const MAX_BIGINT = 9223372036854775807n;

/** The key as a bigint id parameter, or null when it cannot be one (then only names match). */
function asId(idOrName: string): string | null {
  if (!/^\d{1,19}$/.test(idOrName)) return null;
  return BigInt(idOrName) <= MAX_BIGINT ? idOrName : null;
}

export class SqlCredentialStore implements CredentialStore {
  constructor(private readonly ctx: RepoContext) {}

  async upsert(input: CredentialInput): Promise<CredentialSummary> {
    if (input.name.length === 0) throw new NoetlError('BAD_REQUEST', 'credential needs a name');
    const result = await this.ctx.db.query(this.ctx.sql.credentials.upsert, [
      this.ctx.ids.next(),
      input.name,
      input.type,
      input.dataEncrypted,
      jsonParam(input.schema),
      jsonParam(input.meta),
      input.tags ? [...input.tags] : null,
      opt(input.description),
    ]);
    const row = result.rows[0];
    if (!row) throw new NoetlError('DB_ERROR', `credential upsert of ${input.name} returned no row`);
    return toCredentialSummary(row);
  }

  async getForUpdate(id: string): Promise<CredentialRecord | undefined> {
    const result = await this.ctx.db.query(this.ctx.sql.credentials.getForUpdate, [id]);
    const row = result.rows[0];
    return row ? toCredential(row) : undefined;
  }

  async update(id: string, input: CredentialInput): Promise<CredentialSummary | undefined> {
    if (input.name.length === 0) throw new NoetlError('BAD_REQUEST', 'credential needs a name');
    const result = await this.ctx.db.query(this.ctx.sql.credentials.update, [
      id,
      input.name,
      input.type,
      input.dataEncrypted,
      jsonParam(input.schema),
      jsonParam(input.meta),
      input.tags ? [...input.tags] : null,
      opt(input.description),
    ]);
    const row = result.rows[0];
    return row ? toCredentialSummary(row) : undefined;
  }

  async list(options: CredentialListOptions = {}): Promise<CredentialSummary[]> {
    const result = await this.ctx.db.query(this.ctx.sql.credentials.list, [
      opt(options.type),
      options.q === undefined || options.q === '' ? null : options.q,
    ]);
    return result.rows.map(toCredentialSummary);
  }

  async get(idOrName: string): Promise<CredentialRecord | undefined> {
    const result = await this.ctx.db.query(this.ctx.sql.credentials.get, [idOrName, asId(idOrName)]);
    const row = result.rows[0];
    return row ? toCredential(row) : undefined;
  }

  async delete(idOrName: string): Promise<boolean> {
    const result = await this.ctx.db.query(this.ctx.sql.credentials.delete, [idOrName, asId(idOrName)]);
    return result.rowCount > 0;
  }
}
