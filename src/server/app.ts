import { readFileSync } from 'node:fs';
import Fastify, { LogController } from 'fastify';
import type { FastifyBaseLogger, FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { ServerConfig } from '../config/index.js';
import { systemClock } from '../shared/index.js';
import type { Clock, JsonValue } from '../shared/index.js';
import type { Store } from '../store/index.js';
import { apiTokenHook, internalTokenGuard } from './auth.js';
import type { SecretCipher } from './crypto/index.js';
import { installErrorHandlers, sendError } from './errors.js';
import { installJsonBodyParser } from './json-body.js';
import { createServerLogger } from './logging.js';
import { createServerMetrics, installMetrics, type ServerMetrics } from './metrics.js';
import { installNetworkGuard } from './network-guard.js';
import { installOpenApi } from './openapi.js';
import { installQueryCoercion } from './query-coercion.js';
import { installResponseCheck } from './response-check.js';
import { registerCatalogRoutes } from './routes/catalog.js';
import type { BusHealth, HealthCheck, RouteContext } from './routes/context.js';
import { registerCredentialRoutes } from './routes/credentials.js';
import { registerDatabaseRoutes } from './routes/database.js';
import { registerKeychainRoutes } from './routes/keychain.js';
import { registerRuntimeRoutes } from './routes/runtime.js';
import { registerSystemRoutes } from './routes/system.js';
import { registerResultRoutes } from './routes/results.js';
import { registerVarRoutes } from './routes/vars.js';
import { registerStreamRoutes } from './routes/streams.js';
import { registerGraphRoutes } from './routes/graph.js';
import { uiStatic } from './ui-static.js';
import { lazySchemas, trackLazySchemas } from './lazy-schemas.js';

/** The package version (package.json is two levels up from src/server and dist/server). */
export const SERVER_VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

export interface AppDeps {
  readonly config: ServerConfig;
  readonly store: Store;
  /** Seals credential and keychain data (EnvelopeCipher over the resolved encryption key). */
  readonly cipher: SecretCipher;
  /** pino logger; default: one made from `config.logLevel` writing to stdout. */
  readonly logger?: FastifyBaseLogger;
  /** Reported by `/api/health` and `/api/status`. */
  readonly bus?: BusHealth;
  /** Extra components of `/api/health` (embedded workers...). */
  readonly healthChecks?: readonly HealthCheck[];
  /** Extra fields of `/api/status`. */
  readonly statusExtras?: () => Record<string, JsonValue> | Promise<Record<string, JsonValue>>;
  /** Metrics registry to serve (create it first to add metrics of your own); default: a new one. */
  readonly metrics?: ServerMetrics;
  /**
   * Route plugins registered after the built-in routes, inside the same error handling, auth,
   * metrics and OpenAPI collection (the orchestration routes: execute, events, commands,
   * executions). Each is registered with `app.register(plugin)`.
   */
  readonly plugins?: readonly FastifyPluginAsync[];
  readonly clock?: Clock;
  /** Directory of the built web UI (`index.html`, `assets/`); default `<package>/dist/ui`. */
  readonly uiDir?: string;
}

/**
 * The HTTP application: every route of contract 4.1 this part owns plus the plugins given, one
 * error handler, the Host / Origin guard (network-guard.ts), bearer-token auth, JSON-only bodies,
 * metrics and the OpenAPI document. Not listening: call
 * `app.listen({host, port})` (or `app.inject()` in tests); `app.close()` does not close the store.
 */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config } = deps;
  const logger =
    deps.logger ??
    createServerLogger({ level: config.logLevel, name: config.serverName, format: config.logFormat });
  const schemas = lazySchemas();
  const app = Fastify({
    loggerInstance: logger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.bodyLimitBytes,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 2048 },
    ajv: { customOptions: { coerceTypes: false } },
    schemaController: { compilersFactory: schemas.compilersFactory },
    frameworkErrors: (error, _request, reply) => {
      void sendError(reply, { error: error.message, status: 400, code: 'BAD_REQUEST' });
    },
  });

  trackLazySchemas(app, schemas);
  installErrorHandlers(app);
  installJsonBodyParser(app);
  installNetworkGuard(app, config);
  app.addHook('onRequest', apiTokenHook(config));
  installQueryCoercion(app);
  if (process.env['NOETL_CHECK_RESPONSES'] === '1') installResponseCheck(app);
  app.addHook('onResponse', (request, reply, done) => {
    request.log.debug(
      {
        method: request.method,
        route: request.routeOptions.url,
        status: reply.statusCode,
        ms: reply.elapsedTime,
      },
      'request completed',
    );
    done();
  });
  await installOpenApi(app, { version: SERVER_VERSION, secured: config.apiToken !== undefined });
  if (config.metricsEnabled) installMetrics(app, deps.metrics ?? createServerMetrics());

  const ctx: RouteContext = {
    config,
    store: deps.store,
    cipher: deps.cipher,
    clock: deps.clock ?? systemClock,
    version: SERVER_VERSION,
    startedAt: (deps.clock ?? systemClock).now(),
    healthChecks: deps.healthChecks ?? [],
    requireInternalToken: internalTokenGuard(config),
    ...(deps.bus === undefined ? {} : { bus: deps.bus }),
    ...(deps.statusExtras === undefined ? {} : { statusExtras: deps.statusExtras }),
  };
  registerSystemRoutes(app, ctx);
  registerDatabaseRoutes(app, ctx);
  registerCatalogRoutes(app, ctx);
  registerCredentialRoutes(app, ctx);
  registerKeychainRoutes(app, ctx);
  registerVarRoutes(app, ctx);
  registerResultRoutes(app, ctx);
  registerRuntimeRoutes(app, ctx);
  registerStreamRoutes(app, ctx);
  registerGraphRoutes(app, ctx);
  for (const plugin of deps.plugins ?? []) await app.register(plugin);
  await app.register(uiStatic({ ...config, ...(deps.uiDir === undefined ? {} : { dir: deps.uiDir }) }));
  return app;
}
