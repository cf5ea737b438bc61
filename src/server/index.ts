/**
 * The control-plane server part: HTTP API (fastify), credential crypto, runtime sweeper. Other
 * parts (cli) import it through this file only.
 */
export { buildApp } from './app.js';
export type { AppDeps } from './app.js';
export type { ErrorBody } from './errors.js';
export { createServerLogger } from './logging.js';
export { RuntimeSweeper } from './sweeper.js';
export * from './crypto/index.js';
export { subscriptionDiagnostics } from './triggers/stream-subscription.js';
