/**
 * The OpenTelemetry SDK costs nothing unless traces are configured (docs/observability.md):
 * loading the built server, worker and CLI resolves no `@opentelemetry/*` module; `openTracing`
 * does (the control that the hook sees them). Needs a build (`npm test` runs one first).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dist = (p: string): string => pathToFileURL(join(ROOT, 'dist', p)).href;

let dir: string;
let register: string;
let log: string;

beforeAll(() => {
  expect(existsSync(join(ROOT, 'dist', 'server', 'main.js')), 'dist/ is missing: run `npm run build`').toBe(
    true,
  );
  dir = mkdtempSync(join(tmpdir(), 'noetl-lazy-otel-'));
  const hook = join(dir, 'hook.mjs');
  log = join(dir, 'resolved.log');
  // Reports every @opentelemetry module the process resolves, into a file: the hook runs on the
  // loader's thread, whose stderr writes a fast-exiting process could lose (seen once in CI).
  writeFileSync(
    hook,
    `import { appendFileSync } from 'node:fs';
export async function resolve(spec, ctx, next) {
  if (spec.startsWith('@opentelemetry/')) appendFileSync(${JSON.stringify(log)}, 'RESOLVED ' + spec + ' FROM ' + ctx.parentURL + '\\n');
  return next(spec, ctx);
}\n`,
  );
  register = join(dir, 'register.mjs');
  writeFileSync(
    register,
    `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hook).href)});\n`,
  );
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** What the hook saw in a node process running `code` (an ES module body). */
function resolvedBy(code: string): string {
  rmSync(log, { force: true });
  const r = spawnSync(process.execPath, ['--import', register, '--input-type=module', '-e', code], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(r.status, r.stderr).toBe(0);
  return existsSync(log) ? readFileSync(log, 'utf8') : '';
}

describe('loading the OpenTelemetry SDK', () => {
  it('does not happen when the server, the worker and the CLI are loaded', () => {
    const code = `${['server/main.js', 'worker/main.js', 'cli/main.js', 'shared/index.js']
      .map((p) => `await import(${JSON.stringify(dist(p))});`)
      .join('\n')}`;
    const resolved = resolvedBy(code);
    // prom-client (metrics) looks for @opentelemetry/api itself, for exemplars; that is not the SDK.
    const loads = resolved
      .split('\n')
      .filter((l) => l.startsWith('RESOLVED ') && !l.includes('/prom-client/'));
    expect(loads).toEqual([]);
  });

  it('happens in openTracing', () => {
    const code = `const { openTracing } = await import(${JSON.stringify(dist('shared/index.js'))});
const t = await openTracing({ url: 'http://127.0.0.1:9/v1/traces', serviceName: 'x', headers: {} });
await t.shutdown();`;
    const resolved = resolvedBy(code);
    expect(resolved).toContain('RESOLVED @opentelemetry/sdk-trace-base');
    expect(resolved).toContain('RESOLVED @opentelemetry/exporter-trace-otlp-http');
  });
});
