export { runLocal, type LocalRunResult } from './runner.js';
export { loadPlaybookFile } from './load.js';
