import type { ToolDefinition } from '../types.js';
import { executeDuckdb } from './execute.js';

export const duckdbTool: ToolDefinition = {
  kind: 'duckdb',
  description: 'Runs SQL on DuckDB (`db_path`, default .noetl/state.duckdb); data like postgres.',
  execute: executeDuckdb,
};
