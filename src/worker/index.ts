export { Worker } from './worker.js';
export { formatDestination, type LogFormat } from './log-format.js';
