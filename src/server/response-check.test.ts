import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { wire } from '../shared/index.js';
import { firstDifference, installResponseCheck } from './response-check.js';

async function appWith(payload: unknown, schema: Record<string, unknown>) {
  const app = Fastify();
  installResponseCheck(app);
  app.get('/x', { schema: { response: { 200: schema } } }, () => payload);
  await app.ready();
  return app;
}

describe('response check', () => {
  it('passes an answer its schema describes whole', async () => {
    const event = {
      event_id: '1',
      execution_id: '2',
      event_type: 'step.exit',
      node_name: 'a',
      node_type: null,
      status: 'COMPLETED',
      created_at: '2026-12-06T00:00:00.000Z',
      parent_event_id: null,
      context: { deep: [1, { x: null }] },
      result: 'r',
      meta: null,
      error: null,
      worker_id: 'w',
    };
    const app = await appWith({ execution_id: '2', status: 'RUNNING', events: [event] }, wire.EventsPage);
    const res = await app.inject('/x');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ execution_id: '2', status: 'RUNNING', events: [event] });
  });

  it('fails an answer whose field the schema drops or converts', async () => {
    const closed = { type: 'object', properties: { a: { type: 'string' } }, additionalProperties: false };
    const dropped = await appWith({ a: 'x', b: 1 }, closed);
    const res = await dropped.inject('/x');
    expect(res.statusCode).toBe(500);
    expect(res.json()).toMatchObject({ code: 'RESPONSE_SCHEMA_MISMATCH' });
    expect(res.json<{ error: string }>().error).toContain('$.b (dropped)');

    const converted = await appWith({ a: 12 }, closed);
    const res2 = await converted.inject('/x');
    expect(res2.statusCode).toBe(500);
    expect(res2.json<{ error: string }>().error).toContain('$.a');
  });

  it('names the first differing path', () => {
    expect(firstDifference({ a: [1, { b: 2 }] }, { a: [1, { b: 3 }] }, '$')).toBe('$.a.1.b (2 became 3)');
    expect(firstDifference({ a: 1 }, { a: 1 }, '$')).toBeUndefined();
  });
});
