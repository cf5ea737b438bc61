import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Prometheus metrics of the server. One registry per server: other parts (orchestrator, embedded
 * workers, bus) add their metrics to `registry` before or after buildApp.
 */
export interface ServerMetrics {
  readonly registry: Registry;
  readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  /** Executions started, completed, failed, cancelled, by catalog path (store-metrics.ts). */
  readonly executions: Counter<'path' | 'status'>;
  /** Claim to `command.completed` / `command.failed`, by tool kind. */
  readonly stepDuration: Histogram<'kind'>;
  /** One `events.append` (a batch of events with its decision), in seconds. */
  readonly eventAppend: Histogram;
  /**
   * Transaction bodies run again, by kind (`tx`, `lock`, `execution`): after a connection lost
   * before COMMIT, or (execution) after the log moved on since the cached state was read.
   */
  readonly transactionReruns: Counter<'kind'>;
  /** Commands not finished, by status (pending, claimed, running); read from the store at scrape. */
  readonly commands: Gauge<'status'>;
  /** Sets how `noetl_commands` is read at each scrape (instrumentStore does). */
  countCommandsWith(read: () => Promise<Readonly<Record<string, number>>>): void;
}

/** The statuses `noetl_commands` reports (lower case of the command row's status). */
export const OPEN_COMMAND_STATUSES = ['pending', 'claimed', 'running'] as const;

export interface ServerMetricsOptions {
  /** Process metrics (CPU, memory, event loop lag, GC) with the `noetl_` prefix. Default true. */
  readonly processMetrics?: boolean;
  readonly labels?: Readonly<Record<string, string>>;
}

export function createServerMetrics(options: ServerMetricsOptions = {}): ServerMetrics {
  const registry = new Registry();
  if (options.labels) registry.setDefaultLabels({ ...options.labels });
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'noetl_' });
  const httpRequests = new Counter({
    name: 'noetl_http_requests_total',
    help: 'HTTP requests answered, by route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const httpDuration = new Histogram({
    name: 'noetl_http_request_duration_seconds',
    help: 'HTTP request duration, by route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const executions = new Counter({
    name: 'noetl_executions_total',
    help: 'Executions by catalog path and status (started, completed, failed, cancelled)',
    labelNames: ['path', 'status'] as const,
    registers: [registry],
  });
  const stepDuration = new Histogram({
    name: 'noetl_step_duration_seconds',
    help: "Step commands, from claim to the worker's command.completed / command.failed, by tool kind",
    labelNames: ['kind'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
    registers: [registry],
  });
  const eventAppend = new Histogram({
    name: 'noetl_event_append_duration_seconds',
    help: 'Latency of one append to the event log (a batch of events, their command rows and projection)',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const transactionReruns = new Counter({
    name: 'noetl_store_transaction_reruns_total',
    help: 'Transaction bodies run again: after a connection lost before COMMIT, or (execution) after another writer moved the log on',
    labelNames: ['kind'] as const,
    registers: [registry],
  });
  let readCommands: (() => Promise<Readonly<Record<string, number>>>) | undefined;
  const commands = new Gauge({
    name: 'noetl_commands',
    help: 'Commands not finished, by status (pending: issued, not claimed; claimed; running)',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      if (!readCommands) return;
      const counts = await readCommands().catch(() => undefined);
      if (!counts) return; // the store is down: the last values stay
      for (const status of OPEN_COMMAND_STATUSES) this.set({ status }, counts[status] ?? 0);
    },
  });
  return {
    registry,
    httpRequests,
    httpDuration,
    executions,
    stepDuration,
    eventAppend,
    transactionReruns,
    commands,
    countCommandsWith: (read) => {
      readCommands = read;
    },
  };
}

/**
 * Counts every answer by route pattern (never the raw URL: ids would explode the label set) and
 * serves `GET /metrics`.
 */
export function installMetrics(app: FastifyInstance, metrics: ServerMetrics): void {
  app.addHook('onResponse', (request, reply, done) => {
    const labels = {
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      status: String(reply.statusCode),
    };
    metrics.httpRequests.inc(labels);
    metrics.httpDuration.observe(labels, reply.elapsedTime / 1000);
    done();
  });
  app.get(
    '/metrics',
    { schema: { tags: ['system'], summary: 'Prometheus metrics (text exposition format)' } },
    async (_request, reply) => {
      const text = await metrics.registry.metrics();
      return reply.type(metrics.registry.contentType).send(text);
    },
  );
}
