import { createHash } from 'node:crypto';
import type { ResultInput, ResultRecord, ResultStore } from '../ports.js';
import type { RepoContext } from './context.js';
import { text, time } from '../rows.js';

export class SqlResultStore implements ResultStore {
  constructor(private readonly ctx: RepoContext) {}

  async put(input: ResultInput): Promise<ResultRecord> {
    const resultId = this.ctx.ids.next();
    const bytes = Buffer.byteLength(input.data, 'utf8');
    const sha256 = createHash('sha256').update(input.data, 'utf8').digest('hex');
    const scope = input.scope ?? 'execution';
    const mediaType = input.mediaType ?? 'application/json';
    const row = (
      await this.ctx.db.query(this.ctx.sql.results.insert, [
        resultId,
        input.executionId,
        input.name,
        scope,
        input.sourceStep ?? null,
        input.data,
        bytes,
        sha256,
        mediaType,
      ])
    ).rows[0]!;
    return {
      resultId,
      executionId: input.executionId,
      name: input.name,
      scope,
      bytes,
      sha256,
      mediaType,
      createdAt: time(row, 'created_at'),
    };
  }

  async get(executionId: string, name: string, resultId: string): Promise<string | undefined> {
    const row = (await this.ctx.db.query(this.ctx.sql.results.get, [resultId, executionId, name])).rows[0];
    return row ? text(row, 'data') : undefined;
  }
}
