import { hostname } from 'node:os';
import type { FastifyInstance } from 'fastify';
import { errorMessage, wire } from '../../shared/index.js';
import type { JsonValue } from '../../shared/index.js';
import { rendererHealth } from '../../template/index.js';
import { dashboardStats } from './dashboard.js';
import type { RouteContext } from './context.js';

/** Health probes, pool status, server status and dashboard counters. */

const open = { security: [] } as const;

interface BusReport {
  readonly kind: 'memory' | 'nats';
  readonly status: string;
}

async function busReport(ctx: RouteContext): Promise<BusReport> {
  if (ctx.bus === undefined) {
    return { kind: ctx.config.nats === undefined ? 'memory' : 'nats', status: 'not_started' };
  }
  try {
    return { kind: ctx.bus.kind, status: await ctx.bus.status() };
  } catch (error) {
    return { kind: ctx.bus.kind, status: `error: ${errorMessage(error)}` };
  }
}

async function healthReport(
  ctx: RouteContext,
): Promise<{ healthy: boolean; body: Record<string, JsonValue> }> {
  const [db, bus] = await Promise.all([ctx.store.health(), busReport(ctx)]);
  let healthy = db.ok;
  const components: Record<string, JsonValue> = {};
  const renderer = rendererHealth();
  components['templates'] = { ok: renderer.ok, ...(renderer.ok ? {} : { detail: renderer.message ?? '' }) };
  if (!renderer.ok) healthy = false;
  for (const check of ctx.healthChecks) {
    try {
      const result = await check.check();
      components[check.name] = {
        ok: result.ok,
        ...(result.detail === undefined ? {} : { detail: result.detail }),
      };
      if (!result.ok && check.critical === true) healthy = false;
    } catch (error) {
      components[check.name] = { ok: false, detail: errorMessage(error) };
      if (check.critical === true) healthy = false;
    }
  }
  return {
    healthy,
    body: {
      status: healthy ? 'ok' : 'unhealthy',
      database: db.ok ? 'connected' : 'disconnected',
      database_latency_ms: Math.round(db.latencyMs * 100) / 100,
      ...(db.error === undefined ? {} : { database_error: db.error }),
      bus: { kind: bus.kind, status: bus.status },
      ...(Object.keys(components).length > 0 ? { components } : {}),
    },
  };
}

export function registerSystemRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get(
    '/health',
    { schema: { tags: ['system'], summary: 'Liveness probe', response: { 200: wire.Liveness }, ...open } },
    () => ({
      status: 'ok',
    }),
  );

  app.get(
    '/api/health',
    {
      schema: {
        tags: ['system'],
        summary: 'Readiness: database and bus status (503 when the database is down)',
        response: { 200: wire.HealthReport, 503: wire.HealthReport },
        ...open,
      },
    },
    async (_request, reply) => {
      const { healthy, body } = await healthReport(ctx);
      return reply.code(healthy ? 200 : 503).send(body);
    },
  );

  app.get(
    '/api/pool/status',
    { schema: { tags: ['system'], summary: 'Database connection pool', response: { 200: wire.PoolStatus } } },
    () => {
      const s = ctx.store.stats();
      return {
        status: 'ok',
        kind: s.kind,
        schema: s.schema,
        pool: { total: s.total, idle: s.idle, waiting: s.waiting, max: maxConnections(ctx) },
      };
    },
  );

  app.get(
    '/api/status',
    {
      schema: {
        tags: ['system'],
        summary: 'Server status and system info',
        response: { 200: wire.ServerStatus },
      },
    },
    async () => {
      const memory = process.memoryUsage();
      const stats = ctx.store.stats();
      const [bus, extras] = await Promise.all([busReport(ctx), ctx.statusExtras?.() ?? {}]);
      const now = ctx.clock.now();
      return {
        status: 'ok',
        server: {
          name: ctx.config.serverName,
          version: ctx.version,
          hostname: hostname(),
          pid: process.pid,
          node: process.version,
          started_at: new Date(ctx.startedAt).toISOString(),
          uptime_seconds: Math.round((now - ctx.startedAt) / 1000),
          public_url: ctx.config.publicServerUrl,
          machine_id: ctx.config.machineId,
        },
        database: { kind: stats.kind, schema: stats.schema, pool: { total: stats.total, idle: stats.idle } },
        bus,
        embedded_workers: ctx.config.embeddedWorkers,
        auth: { api_token: ctx.config.apiToken !== undefined },
        memory: { rss: memory.rss, heap_used: memory.heapUsed, heap_total: memory.heapTotal },
        ...extras,
      };
    },
  );

  app.get(
    '/api/dashboard/stats',
    {
      schema: {
        tags: ['system'],
        summary: 'Counters for the UI dashboard',
        response: { 200: wire.DashboardStats },
      },
    },
    async (): Promise<wire.DashboardStats> => ({ status: 'ok', ...(await dashboardStats(ctx.store)) }),
  );
}

function maxConnections(ctx: RouteContext): number {
  return ctx.config.database.kind === 'postgres' ? ctx.config.database.poolSize : 1;
}
