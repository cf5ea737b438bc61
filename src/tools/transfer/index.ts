import type { ToolDefinition } from '../types.js';
import { executeTransfer } from './execute.js';

export const transferTool: ToolDefinition = {
  kind: 'transfer',
  description:
    'Moves rows from a source (http, postgres, duckdb) to a target table (postgres, duckdb) in chunks.',
  execute: executeTransfer,
};
