import type { FastifyInstance } from 'fastify';
import { NotFoundError, wire } from '../../shared/index.js';
import type { JsonValue } from '../../shared/index.js';
import { RUNTIME_KINDS } from '../../store/index.js';
import type { RuntimeKind, RuntimeRecord } from '../../store/index.js';
import type { RouteContext } from './context.js';

/**
 * The runtime registry (contract 4.1): worker pools register, heartbeat and deregister; the
 * sweeper marks silent ones offline. `component_type` is accepted for `kind` as NoETL's workers
 * send it. A heartbeat or deregister of an unknown runtime is 404 (a worker re-registers on it).
 */

interface RegisterBody {
  readonly name: string;
  readonly kind?: RuntimeKind;
  readonly component_type?: RuntimeKind;
  readonly uri?: string;
  readonly status?: string;
  readonly labels?: JsonValue;
  readonly capabilities?: JsonValue;
  readonly capacity?: number;
  readonly runtime?: JsonValue;
  readonly hostname?: string;
}
interface NameBody {
  readonly name: string;
  readonly kind?: RuntimeKind;
  readonly component_type?: RuntimeKind;
}
interface ListQuery {
  readonly kind?: RuntimeKind;
  readonly status?: string;
  readonly name?: string;
}

const tags = ['workers'];
const kindSchema = { type: 'string', enum: [...RUNTIME_KINDS] } as const;
const nameSchema = { type: 'string', pattern: '^[A-Za-z0-9_.:@/-]{1,256}$' } as const;
const nameBody = {
  type: 'object',
  required: ['name'],
  properties: { name: nameSchema, kind: kindSchema, component_type: kindSchema },
} as const;

export function runtimeWire(r: RuntimeRecord): wire.WorkerPool {
  return {
    runtime_id: r.runtimeId,
    name: r.name,
    kind: r.kind,
    uri: r.uri,
    status: r.status,
    labels: r.labels,
    capabilities: r.capabilities,
    capacity: r.capacity,
    runtime: r.runtime,
    heartbeat: r.heartbeat,
    created_at: r.createdAt,
    updated_at: r.updatedAt,
  };
}

function kindOf(body: { kind?: RuntimeKind; component_type?: RuntimeKind }): RuntimeKind {
  return body.kind ?? body.component_type ?? 'worker_pool';
}

export function registerRuntimeRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { store } = ctx;

  app.post<{ Body: RegisterBody }>(
    '/api/worker/pool/register',
    {
      schema: {
        tags,
        summary: 'Register (or re-register) a worker pool, server or broker',
        body: {
          type: 'object',
          required: ['name'],
          properties: {
            name: nameSchema,
            kind: kindSchema,
            component_type: kindSchema,
            uri: { type: 'string', maxLength: 2048 },
            status: { type: 'string', minLength: 1, maxLength: 64 },
            labels: {},
            capabilities: {},
            capacity: { type: 'integer', minimum: 0 },
            runtime: {},
            hostname: { type: 'string', maxLength: 256 },
          },
        },
        response: { 200: wire.PoolRegistered },
      },
    },
    async (request) => {
      const b = request.body;
      const kind = kindOf(b);
      const facts =
        b.hostname === undefined
          ? b.runtime
          : {
              ...(typeof b.runtime === 'object' && b.runtime !== null && !Array.isArray(b.runtime)
                ? b.runtime
                : {}),
              hostname: b.hostname,
            };
      const saved = await store.runtime.register({
        name: b.name,
        kind,
        ...(b.uri === undefined ? {} : { uri: b.uri }),
        ...(b.status === undefined ? {} : { status: b.status }),
        ...(b.labels === undefined ? {} : { labels: b.labels }),
        ...(b.capabilities === undefined ? {} : { capabilities: b.capabilities }),
        ...(b.capacity === undefined ? {} : { capacity: b.capacity }),
        ...(facts === undefined ? {} : { runtime: facts }),
      });
      return {
        ...runtimeWire(saved),
        status: 'ok',
        message: `Runtime ${kind} ${b.name} registered`,
        runtime_status: saved.status,
      };
    },
  );

  app.post<{ Body: NameBody }>(
    '/api/worker/pool/heartbeat',
    {
      schema: {
        tags,
        summary: 'Heartbeat of a registered runtime',
        body: nameBody,
        response: { 200: wire.Ack },
      },
    },
    async (request) => {
      const kind = kindOf(request.body);
      if (!(await store.runtime.heartbeat(request.body.name, kind))) {
        throw new NotFoundError(
          `runtime ${kind} '${request.body.name}' is not registered: register it first`,
        );
      }
      return { status: 'ok', message: 'Heartbeat recorded' };
    },
  );

  app.delete<{ Body: NameBody }>(
    '/api/worker/pool/deregister',
    {
      schema: {
        tags,
        summary: 'Remove a runtime from the registry',
        body: nameBody,
        response: { 200: wire.Ack },
      },
    },
    async (request) => {
      const kind = kindOf(request.body);
      if (!(await store.runtime.deregister(request.body.name, kind))) {
        throw new NotFoundError(`runtime ${kind} '${request.body.name}' is not registered`);
      }
      return { status: 'ok', message: `Runtime ${kind} ${request.body.name} deregistered` };
    },
  );

  app.get<{ Querystring: ListQuery }>(
    '/api/worker/pools',
    {
      schema: {
        tags,
        summary: 'Registered runtimes (worker pools unless kind is given)',
        querystring: {
          type: 'object',
          properties: { kind: kindSchema, status: { type: 'string' }, name: { type: 'string' } },
        },
        response: { 200: wire.WorkerPoolList },
      },
    },
    async (request) => {
      const { kind, status, name } = request.query;
      const rows = await store.runtime.list({
        kind: kind ?? 'worker_pool',
        ...(status === undefined ? {} : { status }),
        ...(name === undefined ? {} : { name }),
      });
      return rows.map(runtimeWire);
    },
  );
}
