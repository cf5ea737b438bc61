/**
 * The embedded server prepares the executions list's first-page statement at start (issue 13:
 * the first list page after a start planned it on the request, 653 ms with 100,000 executions).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type RunningServer } from '../helpers/embedded-server.js';

let server: RunningServer;
beforeAll(async () => {
  server = await startTestServer();
}, 120_000);
afterAll(async () => {
  await server?.stop();
});

describe('server start', () => {
  it('has the executions page statement prepared before the first request', async () => {
    const prepared = await server.handle.store.query('SELECT statement FROM pg_prepared_statements');
    const texts = prepared.rows.map((r) => String((r as { statement: unknown }).statement));
    expect(texts.some((t) => /AS start_micros/i.test(t) && /FROM noetl\.execution/i.test(t))).toBe(true);
  });
});
