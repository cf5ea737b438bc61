import type { ToolDefinition } from '../types.js';
import { executePython } from './execute.js';

export const pythonTool: ToolDefinition = {
  kind: 'python',
  description:
    'Runs Python code in a python3 subprocess; `result = ...`, `def main()` or `return` give the data.',
  execute: executePython,
};
