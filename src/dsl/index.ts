export * from './types.js';
export { parsePlaybook } from './parse.js';
export { checkPlaybookLimits } from './limits.js';
export { normalizeTool } from './normalize-tool.js';
export { playbookJsonSchema } from './schema.js';
