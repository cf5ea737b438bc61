import type { FastifyPluginAsync } from 'fastify';
import { isoTime, NoetlError, NotFoundError, wire, type Clock } from '../../shared/index.js';
import type { JsonObject } from '../../shared/index.js';
import { SCHEDULE_CATCHUP, SCHEDULE_OVERLAP } from '../../store/index.js';
import type { ScheduleFireRecord, ScheduleInput, ScheduleRecord, Store } from '../../store/index.js';
import { CronSpec } from '../triggers/cron.js';
import { fireKey, nextRunOf, type ScheduleRunner } from '../triggers/scheduler.js';

/**
 * Schedules (docs/triggers.md): `POST /api/schedules`, `GET /api/schedules`,
 * `GET|PATCH|DELETE /api/schedules/{id}`, `POST /api/schedules/{id}/pause|resume|trigger`,
 * `GET /api/schedules/{id}/fires`. Managed by the API and CLI, not declared in playbooks.
 */

const ID = { type: 'string', pattern: '^[0-9]{1,20}$' } as const;
const idParams = { type: 'object', required: ['id'], properties: { id: ID } } as const;
const tags = ['schedules'];

const scheduleFields = {
  path: { type: 'string', minLength: 1, maxLength: 1000 },
  cron: { type: 'string', minLength: 1, maxLength: 200 },
  timezone: { type: 'string', minLength: 1, maxLength: 100 },
  workload: { type: 'object' },
  version: { anyOf: [{ type: 'integer', minimum: 1 }, { type: 'null' }] },
  enabled: { type: 'boolean' },
  catchup: { type: 'string', enum: [...SCHEDULE_CATCHUP] },
  catchup_limit: { type: 'integer', minimum: 1, maximum: 1000 },
  overlap: { type: 'string', enum: [...SCHEDULE_OVERLAP] },
  description: { anyOf: [{ type: 'string', maxLength: 2000 }, { type: 'null' }] },
} as const;

interface ScheduleBody {
  readonly path?: string;
  readonly cron?: string;
  readonly timezone?: string;
  readonly workload?: JsonObject;
  readonly version?: number | null;
  readonly enabled?: boolean;
  readonly catchup?: ScheduleInput['catchup'];
  readonly catchup_limit?: number;
  readonly overlap?: ScheduleInput['overlap'];
  readonly description?: string | null;
}

const NEXT_SHOWN = 5;

function nextFireTimes(s: ScheduleRecord, now: number): string[] {
  if (!s.enabled) return [];
  return new CronSpec(s.cron, s.timezone).nextN(now, NEXT_SHOWN).map(isoTime);
}

export function scheduleWire(s: ScheduleRecord, now: number): wire.Schedule {
  return {
    schedule_id: s.scheduleId,
    path: s.path,
    version: s.version,
    cron: s.cron,
    timezone: s.timezone,
    workload: s.workload,
    enabled: s.enabled,
    catchup: s.catchup,
    catchup_limit: s.catchupLimit,
    overlap: s.overlap,
    description: s.description,
    next_run_at: s.nextRunAt,
    last_run_at: s.lastRunAt,
    last_status: s.lastStatus,
    created_at: s.createdAt,
    updated_at: s.updatedAt,
    next_fire_times: nextFireTimes(s, now),
  };
}

function fireWire(f: ScheduleFireRecord): wire.ScheduleFire {
  return {
    schedule_id: f.scheduleId,
    fire_time: f.fireTime,
    execution_id: f.executionId,
    outcome: f.outcome,
    error: f.error,
    created_at: f.createdAt,
  };
}

/** The stored form of a schedule: `body` over `base` (PATCH) or over the defaults (POST). */
function inputOf(body: ScheduleBody, base: ScheduleRecord | undefined, now: number): ScheduleInput {
  const path = body.path ?? base?.path;
  const cron = body.cron ?? base?.cron;
  if (path === undefined || cron === undefined) {
    throw new NoetlError('BAD_REQUEST', 'a schedule needs path and cron');
  }
  const version = body.version === undefined ? (base?.version ?? undefined) : body.version;
  const description = body.description === undefined ? (base?.description ?? undefined) : body.description;
  const input = {
    path,
    cron: cron.trim(),
    timezone: body.timezone ?? base?.timezone ?? 'UTC',
    workload: body.workload ?? base?.workload ?? {},
    enabled: body.enabled ?? base?.enabled ?? true,
    catchup: body.catchup ?? base?.catchup ?? 'one',
    catchupLimit: body.catchup_limit ?? base?.catchupLimit ?? 10,
    overlap: body.overlap ?? base?.overlap ?? 'allow',
    ...(version !== undefined && version !== null ? { version } : {}),
    ...(description !== undefined && description !== null ? { description } : {}),
  };
  // Keep the pending tick when nothing that decides it changed (a PATCH of the workload).
  const timing =
    base === undefined ||
    input.cron !== base.cron ||
    input.timezone !== base.timezone ||
    input.enabled !== base.enabled;
  const next = timing ? nextRunOf(input, now) : (base.nextRunAt ?? nextRunOf(input, now));
  return { ...input, ...(next !== undefined ? { nextRunAt: next } : {}) };
}

export interface ScheduleRouteDeps {
  readonly store: Store;
  readonly runner: ScheduleRunner;
  readonly clock: Clock;
}

export function scheduleRoutes(deps: ScheduleRouteDeps): FastifyPluginAsync {
  const { store, runner, clock } = deps;

  async function mustGet(id: string): Promise<ScheduleRecord> {
    const s = await store.schedules.get(id);
    if (!s) throw new NotFoundError(`schedule ${id} not found`);
    return s;
  }

  async function requirePlaybook(path: string, version: number | undefined): Promise<void> {
    const entry = await store.catalog.getByPath(path, version ?? 'latest');
    if (!entry) {
      throw new NotFoundError(
        `playbook '${path}'${version !== undefined ? ` version ${version}` : ''} is not in the catalog: register it first`,
      );
    }
  }

  // eslint-disable-next-line @typescript-eslint/require-await -- fastify plugins are async functions
  return async (app) => {
    app.post<{ Body: ScheduleBody }>(
      '/api/schedules',
      {
        schema: {
          tags,
          summary: 'Create a schedule',
          response: { 201: wire.Schedule },
          body: {
            type: 'object',
            required: ['path', 'cron'],
            properties: scheduleFields,
            additionalProperties: false,
          },
        },
      },
      async (req, reply) => {
        const now = clock.now();
        const input = inputOf(req.body, undefined, now);
        await requirePlaybook(input.path, input.version);
        const created = await store.schedules.insert(input);
        return reply.code(201).send(scheduleWire(created, now));
      },
    );

    app.get<{ Querystring: { path?: string; limit?: number } }>(
      '/api/schedules',
      {
        schema: {
          tags,
          summary: 'List schedules',
          response: { 200: wire.ScheduleList },
          querystring: {
            type: 'object',
            properties: {
              path: { type: 'string', maxLength: 1000 },
              limit: { type: 'integer', minimum: 1, maximum: 1000 },
            },
          },
        },
      },
      async (req) => {
        const now = clock.now();
        const items = await store.schedules.list({
          ...(req.query.path !== undefined ? { path: req.query.path } : {}),
          ...(req.query.limit !== undefined ? { limit: req.query.limit } : {}),
        });
        return { items: items.map((s) => scheduleWire(s, now)), count: items.length };
      },
    );

    app.get<{ Params: { id: string } }>(
      '/api/schedules/:id',
      {
        schema: {
          tags,
          summary: 'A schedule with its next fire times',
          params: idParams,
          response: { 200: wire.Schedule },
        },
      },
      async (req) => scheduleWire(await mustGet(req.params.id), clock.now()),
    );

    app.get<{ Params: { id: string }; Querystring: { limit?: number } }>(
      '/api/schedules/:id/fires',
      {
        schema: {
          tags,
          summary: 'Recent fires of a schedule, newest first, with their executions',
          response: { 200: wire.ScheduleFires },
          params: idParams,
          querystring: {
            type: 'object',
            properties: { limit: { type: 'integer', minimum: 1, maximum: 1000 } },
          },
        },
      },
      async (req) => {
        await mustGet(req.params.id);
        const fires = await store.schedules.fires(req.params.id, req.query.limit ?? 50);
        return { items: fires.map(fireWire), count: fires.length };
      },
    );

    app.patch<{ Params: { id: string }; Body: ScheduleBody }>(
      '/api/schedules/:id',
      {
        schema: {
          tags,
          summary: 'Change some fields of a schedule; the others are kept',
          response: { 200: wire.Schedule },
          params: idParams,
          body: { type: 'object', properties: scheduleFields, additionalProperties: false },
        },
      },
      async (req) => {
        const now = clock.now();
        const base = await mustGet(req.params.id);
        const input = inputOf(req.body, base, now);
        if (input.path !== base.path || input.version !== (base.version ?? undefined)) {
          await requirePlaybook(input.path, input.version);
        }
        const updated = await store.schedules.update(req.params.id, input);
        if (!updated) throw new NotFoundError(`schedule ${req.params.id} not found`);
        return scheduleWire(updated, now);
      },
    );

    app.delete<{ Params: { id: string } }>(
      '/api/schedules/:id',
      {
        schema: {
          tags,
          summary: 'Delete a schedule (its executions stay)',
          params: idParams,
          response: { 200: wire.ScheduleDeleted },
        },
      },
      async (req) => {
        if (!(await store.schedules.delete(req.params.id))) {
          throw new NotFoundError(`schedule ${req.params.id} not found`);
        }
        return { deleted: true, schedule_id: req.params.id };
      },
    );

    for (const action of ['pause', 'resume'] as const) {
      app.post<{ Params: { id: string } }>(
        `/api/schedules/:id/${action}`,
        {
          schema: {
            tags,
            summary:
              action === 'pause'
                ? 'Stop firing (missed ticks are not made up on resume)'
                : 'Fire again from the next tick after now',
            params: idParams,
            response: { 200: wire.Schedule },
          },
        },
        async (req) => {
          const now = clock.now();
          const base = await mustGet(req.params.id);
          const updated = await store.schedules.update(
            req.params.id,
            inputOf({ enabled: action === 'resume' }, base, now),
          );
          if (!updated) throw new NotFoundError(`schedule ${req.params.id} not found`);
          return scheduleWire(updated, now);
        },
      );
    }

    app.post<{ Params: { id: string } }>(
      '/api/schedules/:id/trigger',
      {
        schema: {
          tags,
          summary: 'Start the playbook now, outside the cron',
          params: idParams,
          response: { 201: wire.ScheduleTriggered },
        },
      },
      async (req, reply) => {
        const s = await mustGet(req.params.id);
        const fireTime = isoTime(clock.now());
        const response = await runner.execute({
          path: s.path,
          ...(s.version !== null ? { version: s.version } : {}),
          payload: s.workload,
          dedupKey: `${fireKey(s.scheduleId, fireTime)}:manual`,
        });
        await store.schedules.recordFire({
          scheduleId: s.scheduleId,
          fireTime,
          executionId: response.execution_id,
          outcome: 'started',
        });
        return reply
          .code(201)
          .send({ schedule_id: s.scheduleId, fire_time: fireTime, execution_id: response.execution_id });
      },
    );
  };
}
