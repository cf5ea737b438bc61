import { NoetlError } from '../../shared/index.js';
import type { CatalogDeleteResult, CatalogListOptions, CatalogStore } from '../ports.js';
import type { CatalogInput, CatalogRecord } from '../records.js';
import { bool, jsonParam, num, opt, text } from '../rows.js';
import { DEFAULT_LIST_LIMIT, type RepoContext } from './context.js';
import { toCatalog } from './mappers.js';

export class SqlCatalogStore implements CatalogStore {
  constructor(private readonly ctx: RepoContext) {}

  register(input: CatalogInput): Promise<CatalogRecord> {
    const kind = input.kind.trim().toLowerCase();
    if (input.path.length === 0 || kind.length === 0) {
      return Promise.reject(new NoetlError('BAD_REQUEST', 'catalog entry needs a path and a kind'));
    }
    return this.ctx.db.tx(async (db) => {
      // One registration per path at a time, so max(version) + 1 is never taken twice.
      await db.query(this.ctx.sql.admin.lock, [`${this.ctx.lockPrefix}catalog:${input.path}`]);
      await db.query(this.ctx.sql.catalog.ensureKind, [kind]);
      const result = await db.query(this.ctx.sql.catalog.register, [
        this.ctx.ids.next(),
        input.path,
        kind,
        input.content,
        jsonParam(input.layout),
        jsonParam(input.payload),
        jsonParam(input.meta),
      ]);
      const row = result.rows[0];
      if (!row) throw new NoetlError('DB_ERROR', `catalog register of ${input.path} returned no row`);
      return toCatalog(row);
    });
  }

  async list(options: CatalogListOptions = {}): Promise<CatalogRecord[]> {
    const result = await this.ctx.db.query(this.ctx.sql.catalog.list, [
      opt(options.kind),
      opt(options.path),
      options.includeArchived ?? false,
      options.limit ?? DEFAULT_LIST_LIMIT,
    ]);
    return result.rows.map(toCatalog);
  }

  async get(catalogId: string): Promise<CatalogRecord | undefined> {
    const row = (await this.ctx.db.query(this.ctx.sql.catalog.get, [catalogId])).rows[0];
    return row ? toCatalog(row) : undefined;
  }

  async getByPath(path: string, version: number | 'latest' = 'latest'): Promise<CatalogRecord | undefined> {
    const result =
      version === 'latest'
        ? await this.ctx.db.query(this.ctx.sql.catalog.getLatest, [path])
        : await this.ctx.db.query(this.ctx.sql.catalog.getVersion, [path, version]);
    const row = result.rows[0];
    return row ? toCatalog(row) : undefined;
  }

  async delete(path: string, version?: number): Promise<CatalogDeleteResult[]> {
    const result = await this.ctx.db.query(this.ctx.sql.catalog.delete, [path, opt(version)]);
    return result.rows.map((row) => ({
      catalogId: text(row, 'catalog_id'),
      version: num(row, 'version'),
      archived: bool(row, 'archived'),
    }));
  }

  async restore(path: string, version?: number): Promise<CatalogRecord[]> {
    const result = await this.ctx.db.query(this.ctx.sql.catalog.restore, [path, opt(version)]);
    return result.rows.map(toCatalog);
  }
}
