/**
 * The control-plane server part: HTTP API (fastify), credential crypto, runtime sweeper. Other
 * parts (cli) import it through this file only.
 */
export { buildApp, SERVER_VERSION } from './app.js';
export type { AppDeps } from './app.js';
export type { BusHealth, HealthCheck, HealthCheckResult, RouteContext } from './routes/context.js';
export { HTTP_STATUS_OF, installErrorHandlers, sendError, toErrorBody } from './errors.js';
export type { ErrorBody } from './errors.js';
export { PUBLIC_ROUTES, apiTokenHook, bearerToken, internalTokenGuard, tokensEqual } from './auth.js';
export type { AuthTokens } from './auth.js';
export { createServerMetrics, installMetrics } from './metrics.js';
export type { ServerMetrics, ServerMetricsOptions } from './metrics.js';
export { REDACT_PATHS, createServerLogger } from './logging.js';
export type { ServerLoggerOptions } from './logging.js';
export { parseJsonBody, quoteUnsafeIntegers } from './json-body.js';
export { ID_PATTERN, idInput, idString, toId } from './routes/schemas.js';
export { RuntimeSweeper } from './sweeper.js';
export type { RuntimeSweeperOptions } from './sweeper.js';
export { storeConfigOf } from './store-config.js';
export * from './crypto/index.js';
export { subscriptionDiagnostics } from './triggers/stream-subscription.js';
export type { SubscriptionDiagnostic } from './triggers/stream-subscription.js';
