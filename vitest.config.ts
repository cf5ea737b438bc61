import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Two cores: integration files share PostgreSQL and NATS; keep the pool small.
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    reporters: ['default'],
    // Every answer a route serialises by its response schema is checked against the plain JSON of
    // the same value (src/server/response-check.ts): a field the wire model forgot fails the test.
    env: { NOETL_CHECK_RESPONSES: '1' },
  },
});
