import type { ToolDefinition } from '../types.js';
import { executePostgres } from './execute.js';

export const postgresTool: ToolDefinition = {
  kind: 'postgres',
  description:
    'Runs SQL on PostgreSQL; data is `{columns, rows, row_count}` for rows, else `{affected_rows}`.',
  authTarget: 'postgres',
  execute: executePostgres,
};

export { closePools } from './pool.js';
