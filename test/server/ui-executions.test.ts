/**
 * The executions list of the web UI (issue 13): server-side filters and keyset pages
 * (`X-Next-Cursor`), on PGlite and PostgreSQL. Rows are written straight into the execution
 * projection, many sharing one start time, so paging by time alone would skip or repeat rows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryBus } from '../../src/bus/index.js';
import { Orchestrator } from '../../src/server/orchestrator/orchestrator.js';
import { orchestrationRoutes } from '../../src/server/routes/orchestration.js';
import { silentLogger, SnowflakeIdGenerator, systemClock } from '../../src/shared/index.js';
import { templates } from '../../src/template/index.js';
import {
  pgliteBackend,
  postgresBackend,
  startTestServer,
  type BackendFactory,
  type TestBackend,
  type TestServer,
} from '../helpers/server-app.js';

const N = 600;
const BASE = Date.parse('2026-03-01T00:00:00.000Z');

/** Execution i: path `team-<i%3>/flow-<i%7>`, status by i%10, start time in steps of 10 s, four
 * rows per start time (one of them with sub-millisecond precision). */
function seedSql(schema: string): string {
  return `INSERT INTO ${schema}.execution (execution_id, path, status, start_time, event_count)
    SELECT 1000000 + i, 'team-' || (i % 3) || '/flow-' || (i % 7),
      CASE WHEN i % 10 = 0 THEN 'FAILED' WHEN i % 10 = 1 THEN 'RUNNING' ELSE 'COMPLETED' END,
      timestamptz '${new Date(BASE).toISOString()}' + (i / 4) * interval '10 seconds'
        + CASE WHEN i % 4 = 3 THEN interval '123 microseconds' ELSE interval '0' END,
      1
    FROM generate_series(0, ${N - 1}) AS i`;
}

interface Row {
  execution_id: string;
  path: string;
  status: string;
  started_at: string;
}

for (const [name, factory] of [
  ['pglite', pgliteBackend],
  ['postgres', postgresBackend],
] as [string, BackendFactory][]) {
  describe(`executions list pages (${name})`, () => {
    let backend: TestBackend;
    let server: TestServer;
    const bus = new MemoryBus();

    beforeAll(async () => {
      backend = await factory();
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
        plugins: [orchestrationRoutes({ orchestrator, store: backend.store })],
      });
      await backend.store.query(seedSql(backend.schema));
    }, 120_000);

    afterAll(async () => {
      await server?.close();
      await bus.close();
      await backend?.dispose();
    });

    async function all(query: string, limit: number): Promise<{ rows: Row[]; pages: number }> {
      const rows: Row[] = [];
      let cursor: string | undefined;
      let pages = 0;
      for (;;) {
        const sep = query ? '&' : '';
        const url = `/api/executions?${query}${sep}limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`;
        const r = await server.app.inject({ method: 'GET', url });
        expect(r.statusCode, r.body).toBe(200);
        const page = r.json<Row[]>();
        expect(page.length).toBeLessThanOrEqual(limit);
        rows.push(...page);
        pages++;
        const next = r.headers['x-next-cursor'];
        if (typeof next !== 'string') return { rows, pages };
        expect(page.length).toBe(limit);
        cursor = next;
      }
    }

    it('pages through every execution once, newest first', async () => {
      const { rows, pages } = await all('', 37);
      expect(rows).toHaveLength(N);
      expect(pages).toBe(Math.ceil(N / 37));
      expect(new Set(rows.map((r) => r.execution_id)).size).toBe(N);
      const expected = [...Array(N).keys()]
        .sort((a, b) => {
          const ta = Math.floor(a / 4) * 10_000_000 + (a % 4 === 3 ? 123 : 0);
          const tb = Math.floor(b / 4) * 10_000_000 + (b % 4 === 3 ? 123 : 0);
          return tb - ta || b - a;
        })
        .map((i) => String(1000000 + i));
      expect(rows.map((r) => r.execution_id)).toEqual(expected);
    });

    it('defaults to 50 rows and serves at most 500', async () => {
      const first = await server.app.inject({ method: 'GET', url: '/api/executions' });
      expect(first.json<Row[]>()).toHaveLength(50);
      expect(first.headers['x-next-cursor']).toEqual(expect.any(String));
      const big = await server.app.inject({ method: 'GET', url: '/api/executions?limit=1000' });
      expect(big.json<Row[]>()).toHaveLength(500);
    });

    it('filters by status, path prefix, path substring and time, across pages', async () => {
      const failed = await all('status=FAILED', 16);
      expect(failed.rows).toHaveLength(N / 10);
      expect(failed.rows.every((r) => r.status === 'FAILED')).toBe(true);

      const team1 = await all('path=team-1%2F', 25);
      expect(team1.rows).toHaveLength(N / 3);
      expect(team1.rows.every((r) => r.path.startsWith('team-1/'))).toBe(true);

      const flow6 = await all('q=FLOW-6', 20);
      const expected6 = [...Array(N).keys()].filter((i) => i % 7 === 6).length;
      expect(flow6.rows).toHaveLength(expected6);
      expect(flow6.rows.every((r) => r.path.endsWith('/flow-6'))).toBe(true);

      const exact = await all('path=team-2%2Fflow-3&status=COMPLETED', 7);
      const expectedExact = [...Array(N).keys()].filter(
        (i) => i % 3 === 2 && i % 7 === 3 && i % 10 > 1,
      ).length;
      expect(exact.rows).toHaveLength(expectedExact);

      // Rows 40..79 start in [100 s, 200 s): since inclusive, until exclusive.
      const since = new Date(BASE + 100_000).toISOString();
      const until = new Date(BASE + 200_000).toISOString();
      const window = await all(`since=${since}&until=${until}`, 9);
      expect(window.rows.map((r) => r.execution_id).sort()).toEqual(
        [...Array(40).keys()].map((i) => String(1000040 + i)).sort(),
      );
    });

    it('refuses a malformed cursor or time with 400', async () => {
      for (const url of [
        '/api/executions?cursor=bm90LWEtY3Vyc29y',
        '/api/executions?since=yesterday',
        '/api/executions?until=2026-13-45',
        '/api/executions?status=DONE',
      ]) {
        const r = await server.app.inject({ method: 'GET', url });
        expect(r.statusCode, url).toBe(400);
        expect(r.json(), url).toMatchObject({ code: 'BAD_REQUEST' });
      }
    });
  });
}
