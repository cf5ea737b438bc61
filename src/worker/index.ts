export { Worker, type WorkerOptions, type WorkerState } from './worker.js';
export { ControlPlaneClient, type ClaimResponse, type ClientOptions, type PostedEvent } from './client.js';
export { formatDestination, isPretty, prettyLogLine, type LogFormat } from './log-format.js';
