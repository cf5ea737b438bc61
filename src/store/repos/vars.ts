import { NoetlError } from '../../shared/index.js';
import type { VarStore } from '../ports.js';
import { VAR_TYPES, type VarInput, type VarRecord, type VarType } from '../records.js';
import type { RepoContext } from './context.js';
import { toVar } from './mappers.js';

function isVarType(value: string): value is VarType {
  return (VAR_TYPES as readonly string[]).includes(value);
}

export class SqlVarStore implements VarStore {
  constructor(private readonly ctx: RepoContext) {}

  async set(executionId: string, vars: readonly VarInput[]): Promise<number> {
    // Last write wins within one batch (one upsert may not touch a row twice).
    const byName = new Map<string, VarInput>();
    for (const v of vars) {
      const type = v.type ?? 'user_defined';
      if (!isVarType(type)) {
        throw new NoetlError('BAD_REQUEST', `invalid var_type '${String(type)}'`, {
          details: { allowed: VAR_TYPES },
        });
      }
      if (v.name.length === 0) throw new NoetlError('BAD_REQUEST', 'variable needs a var_name');
      byName.set(v.name, v);
    }
    if (byName.size === 0) return 0;
    const rows = [...byName.values()];
    const result = await this.ctx.db.query(this.ctx.sql.vars.upsert, [
      executionId,
      rows.map((v) => v.name),
      rows.map((v) => v.type ?? 'user_defined'),
      rows.map((v) => JSON.stringify(v.value)),
      rows.map((v) => v.sourceStep ?? null),
    ]);
    return result.rowCount;
  }

  async list(executionId: string): Promise<VarRecord[]> {
    return (await this.ctx.db.query(this.ctx.sql.vars.list, [executionId])).rows.map(toVar);
  }

  async get(executionId: string, name: string): Promise<VarRecord | undefined> {
    const row = (await this.ctx.db.query(this.ctx.sql.vars.get, [executionId, name])).rows[0];
    return row ? toVar(row) : undefined;
  }

  async delete(executionId: string, name: string): Promise<boolean> {
    return (await this.ctx.db.query(this.ctx.sql.vars.delete, [executionId, name])).rowCount > 0;
  }

  async clear(executionId: string): Promise<number> {
    return (await this.ctx.db.query(this.ctx.sql.vars.clear, [executionId])).rowCount;
  }
}
