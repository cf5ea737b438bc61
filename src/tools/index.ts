export type {
  ChildPlaybookRequest,
  ChildPlaybookResult,
  CredentialRecord,
  ToolContext,
  ToolOutput,
  ToolResult,
  ToolServices,
} from './types.js';
export { ToolRegistry, defaultRegistry } from './registry.js';
export { closeToolResources } from './resources.js';
export { credentialFields, CREDENTIAL_TYPES } from './credentials.js';
export { runTasks } from './pipeline.js';
export { DEFAULT_STEP_OUTPUT_MAX_BYTES, type OutputLine } from './output.js';
export { workerToolEnv } from './process.js';
export { PythonPool, type PythonPoolOptions } from './python/pool.js';
export { FolderResultStore } from './artifact/index.js';
