export type {
  ChildMode,
  ChildPlaybookRequest,
  ChildPlaybookResult,
  CredentialRecord,
  ErrorInfo,
  ToolContext,
  ToolDefinition,
  ToolOutput,
  ToolResult,
  ToolServices,
} from './types.js';
export { ToolRegistry, defaultRegistry } from './registry.js';
export { runTasks, type RunTasksDeps, type RunTasksInput } from './pipeline.js';
export { abortableSleep, backoffMs, matchRule } from './policy.js';
export { noopTool } from './noop/index.js';
export { pythonTool } from './python/index.js';
export { shellTool } from './shell/index.js';
export { httpTool } from './http/index.js';
export { playbookTool } from './playbook/index.js';
