import type { ToolDefinition } from '../types.js';
import { executeNoop } from './execute.js';

export const noopTool: ToolDefinition = {
  kind: 'noop',
  description: 'Does nothing; returns `result` (or `message`) as its data.',
  execute: executeNoop,
};
