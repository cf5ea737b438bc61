import type { ToolDefinition } from '../types.js';
import { executeMcp } from './execute.js';

export const mcpTool: ToolDefinition = {
  kind: 'mcp',
  description: 'Calls an MCP server over JSON-RPC 2.0 / HTTP (`method: tools/call`, `tools/list`...).',
  authTarget: 'http',
  execute: executeMcp,
};
