export { Worker, type WorkerOptions, type WorkerState } from './worker.js';
export { formatDestination, isPretty, prettyLogLine, type LogFormat } from './log-format.js';
