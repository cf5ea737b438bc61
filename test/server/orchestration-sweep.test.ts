/**
 * The bad-input sweep (test/helpers/api-sweep.ts) over the orchestration routes too: every route
 * of the OpenAPI document is covered, and malformed, mistyped, incomplete, unknown and oversized
 * requests all get 4xx JSON while the server keeps serving.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryBus } from '../../src/bus/index.js';
import { Orchestrator } from '../../src/server/orchestrator/orchestrator.js';
import { orchestrationRoutes } from '../../src/server/routes/orchestration.js';
import { silentLogger, SnowflakeIdGenerator, systemClock } from '../../src/shared/index.js';
import { templates } from '../../src/template/index.js';
import {
  CONTROL_PLANE_ROUTES,
  runSweep,
  sweepCases,
  uncoveredRoutes,
  UNKNOWN_ID,
  type SweepRoute,
} from '../helpers/api-sweep.js';
import { pgliteBackend, startTestServer, type TestBackend, type TestServer } from '../helpers/server-app.js';

const BODY_LIMIT = 64 * 1024;
const id = UNKNOWN_ID;

export const ORCHESTRATION_ROUTES: readonly SweepRoute[] = [
  {
    method: 'POST',
    pattern: '/api/execute',
    url: '/api/execute',
    body: { path: 'no/such/playbook', payload: {}, parent_execution_id: id },
    typed: ['path', 'payload', 'parent_execution_id'],
  },
  {
    method: 'POST',
    pattern: '/api/execute/batch',
    url: '/api/execute/batch',
    unknownStatus: 200,
    body: { executions: [{ path: 'no/such/playbook' }] },
    typed: ['executions'],
    requiresFields: true,
  },
  {
    method: 'POST',
    pattern: '/api/events',
    acceptsNul: true,
    url: '/api/events',
    body: { execution_id: id, event_type: 'command.completed', step: 's', payload: { command_id: 'x' } },
    typed: ['execution_id', 'event_type', 'step', 'payload'],
    requiresFields: true,
  },
  {
    method: 'POST',
    pattern: '/api/events/batch',
    acceptsNul: true,
    url: '/api/events/batch',
    body: { execution_id: id, events: [{ step: 's', event_type: 'command.started', payload: {} }] },
    typed: ['execution_id', 'events'],
    requiresFields: true,
  },
  {
    method: 'GET',
    pattern: '/api/commands/:event_id',
    url: `/api/commands/${id}`,
    badIdUrl: '/api/commands/abc',
  },
  {
    method: 'POST',
    pattern: '/api/commands/:event_id/claim',
    url: `/api/commands/${id}/claim`,
    badIdUrl: '/api/commands/abc/claim',
    body: { worker_id: 'w1' },
    typed: ['worker_id'],
    requiresFields: true,
  },
  {
    method: 'POST',
    pattern: '/api/commands/:event_id/release',
    url: `/api/commands/${id}/release`,
    unknownStatus: 200,
    badIdUrl: '/api/commands/abc/release',
    body: { worker_id: 'w1' },
    typed: ['worker_id'],
    requiresFields: true,
  },
  { method: 'GET', pattern: '/api/executions', url: '/api/executions?limit=5', unknownStatus: 200 },
  {
    method: 'GET',
    pattern: '/api/executions/:id',
    url: `/api/executions/${id}`,
    badIdUrl: '/api/executions/abc',
  },
  {
    method: 'GET',
    pattern: '/api/executions/:id/status',
    url: `/api/executions/${id}/status`,
    badIdUrl: '/api/executions/abc/status',
  },
  {
    method: 'GET',
    pattern: '/api/executions/:id/summary',
    url: `/api/executions/${id}/summary`,
    badIdUrl: '/api/executions/abc/summary',
  },
  {
    method: 'GET',
    pattern: '/api/executions/:id/result',
    url: `/api/executions/${id}/result`,
    badIdUrl: '/api/executions/abc/result',
  },
  {
    method: 'GET',
    pattern: '/api/executions/:id/events',
    url: `/api/executions/${id}/events`,
    badIdUrl: '/api/executions/abc/events',
  },
  {
    method: 'GET',
    pattern: '/api/executions/:id/cancellation-check',
    url: `/api/executions/${id}/cancellation-check`,
    badIdUrl: '/api/executions/abc/cancellation-check',
  },
  {
    method: 'POST',
    pattern: '/api/executions/:id/cancel',
    url: `/api/executions/${id}/cancel`,
    badIdUrl: '/api/executions/abc/cancel',
    body: { reason: 'x', cascade: true },
    typed: ['reason', 'cascade'],
  },
  {
    method: 'POST',
    pattern: '/api/executions/:id/finalize',
    url: `/api/executions/${id}/finalize`,
    badIdUrl: '/api/executions/abc/finalize',
    body: { status: 'FAILED', error: 'x' },
    typed: ['status', 'error'],
    requiresFields: true,
  },
  {
    method: 'POST',
    pattern: '/api/executions/:id/rerun',
    url: `/api/executions/${id}/rerun`,
    badIdUrl: '/api/executions/abc/rerun',
    body: { workload: {} },
    typed: ['workload'],
  },
  {
    method: 'POST',
    pattern: '/api/executions/cleanup',
    url: '/api/executions/cleanup',
    unknownStatus: 200,
    body: { older_than_minutes: 60, dry_run: true },
    typed: ['older_than_minutes', 'dry_run'],
  },
];

let backend: TestBackend;
let server: TestServer;
const bus = new MemoryBus();

beforeAll(async () => {
  backend = await pgliteBackend();
  const orchestrator = new Orchestrator({
    store: backend.store,
    bus,
    ids: new SnowflakeIdGenerator(systemClock),
    clock: systemClock,
    templates: templates(),
    logger: silentLogger,
    serverUrl: 'http://127.0.0.1:1',
  });
  server = await startTestServer(backend, {
    env: { NOETL_BODY_LIMIT_BYTES: String(BODY_LIMIT), NOETL_INTERNAL_API_TOKEN: 'sweep-internal' },
    plugins: [orchestrationRoutes({ orchestrator, store: backend.store })],
  });
}, 180_000);

afterAll(async () => {
  await server?.close();
  await bus.close();
  await backend?.dispose();
});

describe('bad-input sweep with the orchestration routes', () => {
  it('covers every route of the OpenAPI document', () => {
    expect(uncoveredRoutes(server.app, [...CONTROL_PLANE_ROUTES, ...ORCHESTRATION_ROUTES])).toEqual([]);
  });

  it('answers every bad request with 4xx JSON and keeps serving', async () => {
    const cases = sweepCases(ORCHESTRATION_ROUTES, { bodyLimitBytes: BODY_LIMIT });
    expect(cases.length).toBeGreaterThan(60);
    const failures = await runSweep(server.app, cases, { authorization: 'Bearer sweep-internal' });
    expect(failures).toEqual([]);
    expect(server.logs.join('\n')).not.toMatch(/"level":"(error|fatal)"/);
  }, 120_000);
});
