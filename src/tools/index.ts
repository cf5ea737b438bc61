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
export { closeToolResources, onToolResourcesClose } from './resources.js';
export {
  applyToolAuth,
  authAlias,
  canonicalCredentialType,
  credentialFields,
  resolveCredentialAlias,
  CREDENTIAL_TYPES,
  type CredentialTarget,
  type CredentialType,
} from './credentials.js';
export { resolveKeychain, withKeychain, KEYCHAIN_KINDS, type ResolvedKeychain } from './keychain.js';
export { runTasks, type RunTasksDeps, type RunTasksInput } from './pipeline.js';
export {
  DEFAULT_STEP_OUTPUT_MAX_BYTES,
  OutputCollector,
  type OutputLine,
  type OutputStream,
  type StepOutput,
} from './output.js';
export { NOETL_SECRET_ENV, TOOL_ENV_ALLOW, workerToolEnv, withoutNoetlSecrets } from './process.js';
export { abortableSleep, backoffMs, matchRule } from './policy.js';
export { noopTool } from './noop/index.js';
export { pythonTool } from './python/index.js';
export { PythonPool, type PythonPoolOptions } from './python/pool.js';
export { shellTool } from './shell/index.js';
export { httpTool } from './http/index.js';
export { playbookTool } from './playbook/index.js';
export { FolderResultStore } from './artifact/index.js';
