import { NoetlError } from '../../shared/index.js';
import type { RuntimeListOptions, RuntimeStore } from '../ports.js';
import { RUNTIME_KINDS, type RuntimeInput, type RuntimeKind, type RuntimeRecord } from '../records.js';
import { jsonParam, opt, text } from '../rows.js';
import type { RepoContext } from './context.js';
import { toRuntime } from './mappers.js';

export class SqlRuntimeStore implements RuntimeStore {
  constructor(private readonly ctx: RepoContext) {}

  async register(input: RuntimeInput): Promise<RuntimeRecord> {
    if (!(RUNTIME_KINDS as readonly string[]).includes(input.kind)) {
      throw new NoetlError('BAD_REQUEST', `invalid runtime kind '${input.kind}'`, {
        details: { allowed: RUNTIME_KINDS },
      });
    }
    const result = await this.ctx.db.query(this.ctx.sql.runtime.register, [
      this.ctx.ids.next(),
      input.name,
      input.kind,
      opt(input.uri),
      input.status ?? 'active',
      jsonParam(input.labels),
      jsonParam(input.capabilities),
      opt(input.capacity),
      jsonParam(input.runtime),
    ]);
    const row = result.rows[0];
    if (!row) throw new NoetlError('DB_ERROR', `runtime register of ${input.name} returned no row`);
    return toRuntime(row);
  }

  async heartbeat(name: string, kind?: RuntimeKind): Promise<boolean> {
    return (await this.ctx.db.query(this.ctx.sql.runtime.heartbeat, [name, opt(kind)])).rowCount > 0;
  }

  async deregister(name: string, kind?: RuntimeKind): Promise<boolean> {
    return (await this.ctx.db.query(this.ctx.sql.runtime.deregister, [name, opt(kind)])).rowCount > 0;
  }

  async list(options: RuntimeListOptions = {}): Promise<RuntimeRecord[]> {
    const result = await this.ctx.db.query(this.ctx.sql.runtime.list, [
      opt(options.kind),
      opt(options.status),
      opt(options.name),
    ]);
    return result.rows.map(toRuntime);
  }

  async markOffline(olderThanMs: number): Promise<string[]> {
    const result = await this.ctx.db.query(this.ctx.sql.runtime.markOffline, [Math.max(0, olderThanMs)]);
    return result.rows.map((row) => text(row, 'name')).sort();
  }
}
