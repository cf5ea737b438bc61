export * from './types.js';
export { parsePlaybook } from './parse.js';
export { checkPlaybookLimits } from './limits.js';
export { normalizeTool, rawToolConfig } from './normalize-tool.js';
export { rawPolicy, PREVIOUS_ALIASES } from './normalize-policy.js';
export { rawNext } from './normalize-next.js';
export { playbookJsonSchema } from './schema.js';
