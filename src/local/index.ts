export { runLocal, type LocalRunOptions, type LocalRunResult } from './runner.js';
export { loadPlaybookFile } from './load.js';
export { resolveChildPlaybook } from './children.js';
export { JsonlEventLog } from './event-log.js';
