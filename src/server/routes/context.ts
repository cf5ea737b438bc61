import type { preHandlerHookHandler } from 'fastify';
import type { ServerConfig } from '../../config/index.js';
import type { Clock, JsonValue } from '../../shared/index.js';
import type { Store } from '../../store/index.js';
import type { SecretCipher } from '../crypto/index.js';

/** How the bus looks to health checks (the bus adapters know nothing of HTTP). */
export interface BusHealth {
  readonly kind: 'memory' | 'nats';
  /** `connected`, `reconnecting`, `disconnected`, ... */
  status(): string | Promise<string>;
}

export interface HealthCheckResult {
  readonly ok: boolean;
  readonly detail?: JsonValue;
}

/** An extra component reported by `/api/health` (embedded worker pool, outbox...). */
export interface HealthCheck {
  readonly name: string;
  /** A failing critical check makes `/api/health` answer 503. Default false. */
  readonly critical?: boolean;
  check(): HealthCheckResult | Promise<HealthCheckResult>;
}

/** What every route module is given. */
export interface RouteContext {
  readonly config: ServerConfig;
  readonly store: Store;
  readonly cipher: SecretCipher;
  readonly clock: Clock;
  readonly version: string;
  readonly startedAt: number;
  readonly bus?: BusHealth;
  readonly healthChecks: readonly HealthCheck[];
  readonly statusExtras?: () => Record<string, JsonValue> | Promise<Record<string, JsonValue>>;
  /** preHandler guarding internal routes with NOETL_INTERNAL_API_TOKEN. */
  readonly requireInternalToken: preHandlerHookHandler;
}
