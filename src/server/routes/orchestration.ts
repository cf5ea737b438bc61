import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import {
  NoetlError,
  NotFoundError,
  scrubSecrets,
  wire,
  type JsonObject,
  type JsonValue,
} from '../../shared/index.js';
import type { ClaimResult, ExecutionPageKey, ExecutionStatus, Store } from '../../store/index.js';
import type { BatchOutcome, ExecuteRequest, Orchestrator } from '../orchestrator/orchestrator.js';
import { eventView, executionSummary, finalResult, statusView, stepResults } from '../orchestrator/views.js';
import { idString, type WireEvent } from '../orchestrator/wire.js';
import { stepSummaries } from '../orchestrator/step-summary.js';
import { playbookGraph } from './graph.js';
import type { LiveExecution } from '../orchestrator/live.js';

const ID = { type: 'string', pattern: '^[0-9]{1,20}$' } as const;
const ID_OR_NUMBER = { anyOf: [ID, { type: 'integer', minimum: 0 }] } as const;
const idParams = { type: 'object', required: ['id'], properties: { id: ID } } as const;
const eventIdParams = { type: 'object', required: ['event_id'], properties: { event_id: ID } } as const;

const executeBody = {
  type: 'object',
  properties: {
    path: { type: 'string', minLength: 1, maxLength: 1000 },
    catalog_id: ID_OR_NUMBER,
    version: {
      anyOf: [
        { type: 'integer', minimum: 1 },
        { type: 'string', maxLength: 40 },
      ],
    },
    payload: { type: 'object' },
    workload: { type: 'object' },
    args: { type: 'object' },
    parent_execution_id: ID_OR_NUMBER,
    execution_pool: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,100}$' },
    resource_kind: { type: 'string' },
    dedup: {
      type: 'object',
      required: ['key'],
      properties: {
        key: { type: 'string', minLength: 1, maxLength: 500 },
        window_secs: { type: 'integer', minimum: 1 },
      },
    },
  },
} as const;

const wireEventSchema = {
  type: 'object',
  required: ['execution_id'],
  properties: {
    execution_id: ID_OR_NUMBER,
    step: { type: 'string', maxLength: 500 },
    event_type: { type: 'string', maxLength: 100 },
    name: { type: 'string', maxLength: 100 },
    payload: { type: 'object' },
    context: { type: 'object' },
    status: { type: 'string', maxLength: 40 },
    event_id: ID_OR_NUMBER,
    created_at: { type: 'string', maxLength: 64 },
    worker_id: { type: 'string', maxLength: 500 },
    meta: { type: 'object' },
    actionable: { type: 'boolean' },
    informative: { type: 'boolean' },
  },
} as const;

const MAX_PAGE = 500;

interface ExecutionListQuery {
  catalog_id?: string;
  path?: string;
  q?: string;
  status?: ExecutionStatus;
  since?: string;
  until?: string;
  limit?: number;
  offset?: number;
  cursor?: string;
}

const executionListQuery = {
  type: 'object',
  properties: {
    catalog_id: ID,
    path: { type: 'string', maxLength: 1000, description: 'path prefix' },
    q: { type: 'string', maxLength: 1000, description: 'substring of the path, case-insensitive' },
    status: { type: 'string', enum: ['RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED'] },
    since: { type: 'string', maxLength: 64, description: 'ISO time: started at or after' },
    until: { type: 'string', maxLength: 64, description: 'ISO time: started before' },
    // Up to 1000 accepted (the limit of earlier versions), 500 served.
    limit: { type: 'integer', minimum: 1, maximum: 1000, default: 50 },
    offset: { type: 'integer', minimum: 0 },
    cursor: { type: 'string', maxLength: 200, description: 'X-Next-Cursor of the previous page' },
  },
} as const;

function timeParam(value: string, name: string): number {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new NoetlError('BAD_REQUEST', `${name} must be an ISO time, got '${value}'`);
  return ms;
}

/** The cursor is opaque to clients: base64url of `<start micros>.<execution id>`. */
function encodeCursor(key: ExecutionPageKey): string {
  return Buffer.from(`${key.startMicros}.${key.executionId}`, 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): ExecutionPageKey {
  const m = /^(-?\d{1,19})\.(\d{1,20})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!m?.[1] || !m[2]) throw new NoetlError('BAD_REQUEST', 'cursor is not one this server gave');
  return { startMicros: m[1], executionId: m[2] };
}

interface ExecuteBody {
  path?: string;
  catalog_id?: string | number;
  version?: number | string;
  payload?: Record<string, unknown>;
  workload?: Record<string, unknown>;
  args?: Record<string, unknown>;
  parent_execution_id?: string | number;
  execution_pool?: string;
  dedup?: { key: string; window_secs?: number };
}

export interface OrchestrationDeps {
  readonly orchestrator: Orchestrator;
  readonly store: Store;
}

function executeRequest(body: ExecuteBody, idempotencyKey: string | undefined): ExecuteRequest {
  const version: number | 'latest' | undefined =
    typeof body.version === 'number'
      ? body.version
      : body.version === undefined || body.version === 'latest' || body.version === ''
        ? 'latest'
        : Number.isInteger(Number(body.version))
          ? Number(body.version)
          : undefined;
  if (version === undefined) throw new NoetlError('BAD_REQUEST', `version must be a number or 'latest'`);
  const key = body.dedup?.key ?? idempotencyKey;
  return {
    ...(body.path !== undefined ? { path: body.path } : {}),
    ...(body.catalog_id !== undefined ? { catalogId: idString(body.catalog_id, 'catalog_id') } : {}),
    version,
    payload: { ...(body.args ?? {}), ...(body.workload ?? {}), ...(body.payload ?? {}) },
    ...(body.parent_execution_id !== undefined
      ? { parentExecutionId: idString(body.parent_execution_id, 'parent_execution_id') }
      : {}),
    ...(body.execution_pool !== undefined ? { executionPool: body.execution_pool } : {}),
    ...(key !== undefined ? { dedupKey: key } : {}),
    ...(body.dedup?.window_secs !== undefined ? { dedupWindowMs: body.dedup.window_secs * 1000 } : {}),
  };
}

/** What a claim answers (contract 3.6): the command the worker now holds. */
function claimAnswer({ command, claimEventId }: ClaimResult): wire.ClaimAnswer {
  return {
    status: 'ok',
    event_id: command.eventId,
    claim_event_id: claimEventId ?? '',
    execution_id: command.executionId,
    command_id: command.commandKey,
    node_id: command.stepName,
    node_name: command.stepName,
    action: command.toolKind,
    context: command.context,
    meta: { ...(command.meta ?? {}), command_id: command.commandKey, attempt: command.attempt },
  };
}

/** Execute, events, commands and executions routes (contract 4.1, 4.3). */
export function orchestrationRoutes(deps: OrchestrationDeps): FastifyPluginAsync {
  const { orchestrator, store } = deps;
  // what is committed only: a decision in progress may have folded events it has not committed
  const read = <T>(id: string, view: (live: LiveExecution) => T): Promise<T> =>
    orchestrator.live.readCommitted(store, id, view);

  // eslint-disable-next-line @typescript-eslint/require-await -- fastify plugins are async functions
  return async (app: FastifyInstance) => {
    app.post<{ Body: ExecuteBody }>(
      '/api/execute',
      { schema: { body: executeBody, response: { 200: wire.ExecuteAnswer } } },
      async (req) => {
        const header = req.headers['idempotency-key'];
        return orchestrator.execute(
          executeRequest(req.body, typeof header === 'string' ? header : undefined),
        );
      },
    );

    app.post<{ Body: { executions: ExecuteBody[] } }>(
      '/api/execute/batch',
      {
        schema: {
          body: {
            type: 'object',
            required: ['executions'],
            properties: { executions: { type: 'array', maxItems: 1000, items: executeBody } },
          },
          response: { 200: wire.BatchAnswer },
        },
      },
      async (req) => {
        // Items refused while read keep their place; the others start together (one transaction).
        const outcomes: (BatchOutcome | undefined)[] = [];
        const requests: ExecuteRequest[] = [];
        const positions: number[] = [];
        for (const [index, body] of req.body.executions.entries()) {
          try {
            requests.push(executeRequest(body, undefined));
            positions.push(index);
            outcomes.push(undefined);
          } catch (error) {
            outcomes.push({ error });
          }
        }
        const started = await orchestrator.executeBatch(requests);
        started.forEach((outcome, i) => (outcomes[positions[i]!] = outcome));
        const counts = { started: 0, duplicates: 0, failed: 0 };
        const results = outcomes.map((outcome, index) => {
          if (outcome === undefined || 'error' in outcome) {
            counts.failed++;
            const err = outcome?.error;
            return {
              index,
              status: 'failed',
              commands_generated: 0,
              error: err instanceof Error ? err.message : String(err),
            };
          }
          if (outcome.status === 'duplicate') counts.duplicates++;
          else counts.started++;
          return { index, ...outcome };
        });
        return { count: results.length, ...counts, results };
      },
    );

    // acceptsNul: ingest replaces NUL with U+FFFD (shared/storable.ts) instead of refusing it
    const events = { acceptsNul: true };
    app.post<{ Body: WireEvent }>(
      '/api/events',
      { schema: { body: wireEventSchema, response: { 200: wire.IngestAnswer } }, config: events },
      async (req) => {
        const executionId = idString(req.body.execution_id, 'execution_id');
        const r = await orchestrator.ingest(executionId, [req.body]);
        return { status: 'ok', event_id: r.event_ids[0], commands_generated: r.commands_generated };
      },
    );

    app.post<{
      Body: {
        execution_id: string | number;
        worker_id?: string;
        events: Omit<WireEvent, 'execution_id'>[];
        take?: { max: number; pool?: string };
      };
    }>(
      '/api/events/batch',
      {
        config: events,
        schema: {
          body: {
            type: 'object',
            required: ['execution_id', 'events'],
            properties: {
              execution_id: ID_OR_NUMBER,
              worker_id: { type: 'string', maxLength: 500 },
              events: {
                type: 'array',
                minItems: 1,
                maxItems: 1000,
                items: { ...wireEventSchema, required: [] },
              },
              // Beyond NoETL: claim up to `max` of the commands these events decide for the
              // posting worker (`worker_id`), in the same transaction; they come back in
              // `claimed` instead of being published.
              take: {
                type: 'object',
                required: ['max'],
                additionalProperties: false,
                properties: {
                  max: { type: 'integer', minimum: 0, maximum: 64 },
                  pool: { type: 'string', minLength: 1, maxLength: 200 },
                },
              },
            },
          },
          response: { 200: wire.IngestAnswer },
        },
      },
      async (req) => {
        const executionId = idString(req.body.execution_id, 'execution_id');
        const workerId = req.body.worker_id;
        const events = req.body.events.map((e) => ({
          ...e,
          execution_id: executionId,
          ...(workerId !== undefined && e.worker_id === undefined ? { worker_id: workerId } : {}),
        }));
        const take = req.body.take;
        if (take !== undefined && take.max > 0 && workerId === undefined) {
          throw new NoetlError('BAD_REQUEST', 'take needs the worker_id of the batch');
        }
        const r = await orchestrator.ingest(
          executionId,
          events,
          take !== undefined && workerId !== undefined
            ? { workerId, max: take.max, ...(take.pool !== undefined ? { pool: take.pool } : {}) }
            : undefined,
        );
        return {
          status: 'ok',
          event_ids: r.event_ids,
          commands_generated: r.commands_generated,
          ...(r.claimed !== undefined
            ? {
                claimed: r.claimed.map((t) => ({
                  ...claimAnswer(t.claim),
                  execution_pool: t.executionPool,
                  ...(t.trace !== undefined ? { trace: t.trace } : {}),
                })),
              }
            : {}),
        };
      },
    );

    app.get<{ Params: { event_id: string } }>(
      '/api/commands/:event_id',
      { schema: { params: eventIdParams, response: { 200: wire.CommandView } } },
      async (req) => {
        const c = await store.commands.get(req.params.event_id);
        if (!c) throw new NotFoundError(`command ${req.params.event_id} not found`);
        return {
          execution_id: c.executionId,
          event_id: c.eventId,
          command_id: c.commandKey,
          node_id: c.stepName,
          node_name: c.stepName,
          action: c.toolKind,
          status: c.status,
          worker_id: c.workerId,
          context: c.context,
          meta: c.meta,
        };
      },
    );

    const workerBody = {
      type: 'object',
      required: ['worker_id'],
      properties: { worker_id: { type: 'string', minLength: 1, maxLength: 500 } },
    } as const;

    app.post<{ Params: { event_id: string }; Body: { worker_id: string } }>(
      '/api/commands/:event_id/claim',
      { schema: { params: eventIdParams, body: workerBody, response: { 200: wire.ClaimAnswer } } },
      async (req) => {
        return claimAnswer(await orchestrator.claim(req.params.event_id, req.body.worker_id));
      },
    );

    app.post<{ Params: { event_id: string }; Body: { worker_id: string } }>(
      '/api/commands/:event_id/release',
      { schema: { params: eventIdParams, body: workerBody, response: { 200: wire.ReleaseAnswer } } },
      async (req) => {
        const released = await store.commands.release(req.params.event_id, req.body.worker_id);
        if (released) {
          const c = await store.commands.get(req.params.event_id);
          if (c) await orchestrator.republish([c]);
        }
        return { status: released ? 'released' : 'unchanged', event_id: req.params.event_id };
      },
    );

    app.get<{ Querystring: ExecutionListQuery }>(
      '/api/executions',
      { schema: { querystring: executionListQuery, response: { 200: wire.ExecutionList } } },
      async (req, reply) => {
        const q = req.query;
        const page = await store.executions.page({
          ...(q.catalog_id !== undefined ? { catalogId: q.catalog_id } : {}),
          ...(q.path !== undefined && q.path !== '' ? { pathPrefix: q.path } : {}),
          ...(q.q !== undefined && q.q !== '' ? { pathContains: q.q } : {}),
          ...(q.status !== undefined ? { status: q.status } : {}),
          ...(q.since !== undefined ? { since: timeParam(q.since, 'since') } : {}),
          ...(q.until !== undefined ? { until: timeParam(q.until, 'until') } : {}),
          ...(q.cursor !== undefined && q.cursor !== '' ? { after: decodeCursor(q.cursor) } : {}),
          ...(q.cursor === undefined && q.offset !== undefined ? { offset: q.offset } : {}),
          limit: Math.min(q.limit ?? 50, MAX_PAGE),
        });
        void reply.header('access-control-expose-headers', 'x-next-cursor');
        if (page.next) void reply.header('x-next-cursor', encodeCursor(page.next));
        return page.executions.map(executionSummary);
      },
    );

    app.post<{ Body: { older_than_minutes?: number; dry_run?: boolean } }>(
      '/api/executions/cleanup',
      {
        schema: {
          body: {
            type: 'object',
            properties: { older_than_minutes: { type: 'number', minimum: 0 }, dry_run: { type: 'boolean' } },
          },
          response: { 200: wire.CleanupAnswer },
        },
      },
      async (req) => {
        const minutes = req.body.older_than_minutes ?? 5;
        const stale = await store.executions.listRunningOlderThan(minutes * 60_000);
        const ids = stale.map((e) => e.executionId);
        if (req.body.dry_run === true) {
          return {
            cancelled_count: 0,
            execution_ids: ids,
            dry_run: true,
            message: `${ids.length} execution(s) would be cancelled`,
          };
        }
        const done: string[] = [];
        for (const id of ids) {
          try {
            await orchestrator.cancel(id, `cleanup: running for more than ${minutes} minutes`, false);
            done.push(id);
          } catch {
            // finished meanwhile
          }
        }
        return {
          cancelled_count: done.length,
          execution_ids: done,
          message: `cancelled ${done.length} execution(s)`,
        };
      },
    );

    app.get<{ Params: { id: string }; Querystring: { page?: number; page_size?: number } }>(
      '/api/executions/:id',
      {
        schema: {
          params: idParams,
          querystring: {
            type: 'object',
            properties: {
              page: { type: 'integer', minimum: 1, default: 1 },
              page_size: { type: 'integer', minimum: 1, maximum: 10000, default: 1000 },
            },
          },
          response: { 200: wire.ExecutionDetail },
        },
      },
      async (req) => {
        const exec = await store.executions.get(req.params.id);
        if (!exec) throw new NotFoundError(`execution ${req.params.id} not found`);
        const page = req.query.page ?? 1;
        const size = req.query.page_size ?? 1000;
        const all = await store.events.list(req.params.id);
        const events = all.slice((page - 1) * size, page * size).map((e) => ({
          event_id: e.eventId,
          event_type: e.eventType,
          node_name: e.nodeName,
          status: e.status,
          created_at: e.createdAt,
          result: e.result,
          error: e.error,
        }));
        return {
          ...executionSummary(exec),
          workload: exec.workload,
          events,
          pagination: { page, page_size: size, total: all.length },
        };
      },
    );

    app.get<{ Params: { id: string } }>(
      '/api/executions/:id/status',
      { schema: { params: idParams, response: { 200: wire.StatusView } } },
      (req) => read(req.params.id, (live) => statusView(live.state)),
    );

    // The web UI's execution page in one request: the execution, each step folded by the engine
    // (status, attempts, loop progress, times) and the playbook's graph; `last_event_id` is
    // where its event stream resumes.
    app.get<{ Params: { id: string } }>(
      '/api/executions/:id/summary',
      { schema: { params: idParams, response: { 200: wire.ExecutionPage } } },
      (req): Promise<wire.ExecutionPage> =>
        read(req.params.id, (live) => {
          const { state } = live;
          return {
            execution_id: state.executionId,
            path: state.path,
            catalog_id: state.catalogId ?? null,
            version: state.version ?? null,
            status: state.status,
            error: state.error ?? null,
            started_at: state.startedAt === undefined ? null : new Date(state.startedAt).toISOString(),
            completed_at: state.completedAt === undefined ? null : new Date(state.completedAt).toISOString(),
            parent_execution_id: state.parentExecutionId ?? null,
            // a display route: secret-looking keys are masked, as in the event routes
            workload: scrubSecrets(state.workload) as JsonObject,
            event_count: state.eventCount,
            last_event_id: live.lastEventId,
            steps: stepSummaries(state),
            graph: playbookGraph(state.playbook),
          };
        }),
    );

    app.get<{ Params: { id: string }; Querystring: { step?: string } }>(
      '/api/executions/:id/result',
      { schema: { params: idParams, response: { 200: wire.ExecutionResult } } },
      (req): Promise<wire.ExecutionResult> =>
        read(req.params.id, ({ state }) => ({
          execution_id: state.executionId,
          status: state.status,
          path: state.path,
          final_result: finalResult(state) as JsonValue,
          step_results: stepResults(state) as Record<string, JsonValue>,
          error: state.error ?? null,
        })),
    );

    app.get<{ Params: { id: string }; Querystring: { after?: string; limit?: number; types?: string } }>(
      '/api/executions/:id/events',
      {
        schema: {
          params: idParams,
          querystring: {
            type: 'object',
            properties: {
              after: ID,
              limit: { type: 'integer', minimum: 1, maximum: 10000, default: 1000 },
              types: { type: 'string', maxLength: 1000 },
            },
          },
          response: { 200: wire.EventsPage },
        },
      },
      async (req): Promise<wire.EventsPage> => {
        const exec = await store.executions.overview(req.params.id);
        if (!exec) throw new NotFoundError(`execution ${req.params.id} not found`);
        const rows = await store.events.list(req.params.id, {
          ...(req.query.after !== undefined ? { afterEventId: req.query.after } : {}),
          limit: req.query.limit ?? 1000,
          ...(req.query.types ? { types: req.query.types.split(',') } : {}),
        });
        return { execution_id: req.params.id, status: exec.status, events: rows.map(eventView) };
      },
    );

    app.post<{ Params: { id: string }; Body: { reason?: string; cascade?: boolean } | undefined }>(
      '/api/executions/:id/cancel',
      {
        schema: {
          params: idParams,
          body: {
            type: ['object', 'null'],
            properties: { reason: { type: 'string', maxLength: 2000 }, cascade: { type: 'boolean' } },
          },
          response: { 200: wire.CancelAnswer },
        },
      },
      async (req) => {
        const reason = req.body?.reason ?? 'cancelled by user';
        const { cancelled } = await orchestrator.cancel(req.params.id, reason, req.body?.cascade !== false);
        return {
          execution_id: req.params.id,
          status: 'cancelled',
          message: `execution ${req.params.id} cancelled: ${reason}`,
          cancelled_executions: cancelled,
        };
      },
    );

    app.get<{ Params: { id: string } }>(
      '/api/executions/:id/cancellation-check',
      { schema: { params: idParams, response: { 200: wire.CancellationCheck } } },
      async (req) => {
        const exec = await store.executions.overview(req.params.id);
        if (!exec) throw new NotFoundError(`execution ${req.params.id} not found`);
        return { execution_id: req.params.id, is_cancelled: exec.status === 'CANCELLED' };
      },
    );

    app.post<{ Params: { id: string }; Body: { status: 'COMPLETED' | 'FAILED'; error?: string } }>(
      '/api/executions/:id/finalize',
      {
        schema: {
          params: idParams,
          body: {
            type: 'object',
            required: ['status'],
            properties: {
              status: { type: 'string', enum: ['COMPLETED', 'FAILED'] },
              error: { type: 'string', maxLength: 10000 },
            },
          },
          response: { 200: wire.FinalizeAnswer },
        },
      },
      async (req) => {
        const status = await orchestrator.finalize(req.params.id, req.body.status, req.body.error);
        return { execution_id: req.params.id, status, message: `execution ${req.params.id} is ${status}` };
      },
    );

    app.post<{ Params: { id: string }; Body: { workload?: Record<string, unknown> } | undefined }>(
      '/api/executions/:id/rerun',
      {
        schema: {
          params: idParams,
          body: {
            type: ['object', 'null'],
            properties: { workload: { type: 'object' }, resource_kind: { type: 'string' } },
          },
          response: { 200: wire.RerunAnswer },
        },
      },
      async (req) => {
        const r = await orchestrator.rerun(req.params.id, req.body?.workload);
        return { ...r, rerun_of: req.params.id };
      },
    );
  };
}
