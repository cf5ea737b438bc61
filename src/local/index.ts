export { runLocal, type LocalRunOptions, type LocalRunResult } from './runner.js';
export { loadPlaybookFile } from './load.js';
export { resolveChildPlaybook } from './children.js';
export { JsonlEventLog } from './event-log.js';
export { LocalCredentials, credentialEnvName, type LocalCredentialOptions } from './credentials.js';
export { scrubEvent } from './event-scrub.js';
