import type { ToolDefinition } from '../types.js';
import { executeShell } from './execute.js';

export const shellTool: ToolDefinition = {
  kind: 'shell',
  description: 'Runs shell commands (`cmds` list or `command`); data is `{stdout, stderr, exit_code}`.',
  execute: executeShell,
};
