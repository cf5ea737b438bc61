import { describe, expect, it } from 'vitest';
import { CONTROL_PLANE_ROUTES, runSweep, sweepCases, uncoveredRoutes } from '../helpers/api-sweep.js';
import { startTestServer } from '../helpers/server-app.js';
import type { GetFixture } from './api.suite.js';

const BODY_LIMIT = 64 * 1024;

export function sweepTests(get: GetFixture): void {
  describe('bad-input sweep', () => {
    it('covers every route of the OpenAPI document', () => {
      expect(uncoveredRoutes(get().server.app, CONTROL_PLANE_ROUTES)).toEqual([]);
    });

    it('answers malformed, mistyped, incomplete, unknown and oversized requests with 4xx JSON', async () => {
      const server = await startTestServer(get().backend, {
        env: {
          NOETL_BODY_LIMIT_BYTES: String(BODY_LIMIT),
          NOETL_API_TOKEN: 'sweep-api',
          NOETL_INTERNAL_API_TOKEN: 'sweep-internal',
        },
      });
      try {
        const cases = sweepCases(CONTROL_PLANE_ROUTES, { bodyLimitBytes: BODY_LIMIT });
        expect(cases.length).toBeGreaterThan(250);
        const failures = await runSweep(server.app, cases, { authorization: 'Bearer sweep-internal' });
        expect(failures).toEqual([]);
        // the same requests without a token are all refused with 401 before anything else
        const unauthenticated = cases.filter(
          // a NUL URL may land on a public catch-all (the web UI's), refused with 400 there
          (c) =>
            typeof c.request.url === 'string' &&
            !['/health', '/api/health'].includes(c.request.url) &&
            !c.name.endsWith('NUL in the URL'),
        );
        for (const c of unauthenticated.slice(0, 40)) {
          const res = await server.app.inject(c.request);
          expect({ name: c.name, status: res.statusCode }).toEqual({ name: c.name, status: 401 });
        }
        expect(server.logs.join('\n')).not.toMatch(/"level":"(error|fatal)"/);
      } finally {
        await server.close();
      }
    }, 120_000);
  });
}
