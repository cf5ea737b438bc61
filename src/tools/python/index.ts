import type { ToolDefinition } from '../types.js';
import { executePython } from './execute.js';

export const pythonTool: ToolDefinition = {
  kind: 'python',
  description:
    'Runs Python code on a warm python3 interpreter (or a process of its own); `result = ...`, `def main()` or `return` give the data.',
  execute: executePython,
};
