import type { ToolDefinition } from '../types.js';
import { executePlaybook } from './execute.js';

export const playbookTool: ToolDefinition = {
  kind: 'playbook',
  description: 'Starts a child playbook (`path` or `catalog_id`); `return_result` waits for its result.',
  execute: executePlaybook,
};
