/**
 * The OpenTelemetry SDK costs nothing unless traces are configured (docs/observability.md):
 * loading the built server, worker and CLI resolves no `@opentelemetry/*` module; `openTracing`
 * does (the control that the hook sees them). Needs a build (`npm test` runs one first).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dist = (p: string): string => pathToFileURL(join(ROOT, 'dist', p)).href;

let dir: string;
let register: string;

beforeAll(() => {
  expect(existsSync(join(ROOT, 'dist', 'server', 'main.js')), 'dist/ is missing: run `npm run build`').toBe(
    true,
  );
  dir = mkdtempSync(join(tmpdir(), 'noetl-lazy-otel-'));
  const hook = join(dir, 'hook.mjs');
  // Reports every @opentelemetry module the process resolves.
  writeFileSync(
    hook,
    `export async function resolve(spec, ctx, next) {
  if (spec.startsWith('@opentelemetry/')) process.stderr.write('RESOLVED ' + spec + ' FROM ' + ctx.parentURL + '\\n');
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

/** The stderr of a node process running `code` (an ES module body) with the hook. */
function stderrOf(code: string): string {
  const r = spawnSync(process.execPath, ['--import', register, '--input-type=module', '-e', code], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(r.status, r.stderr).toBe(0);
  return r.stderr;
}

describe('loading the OpenTelemetry SDK', () => {
  it('does not happen when the server, the worker and the CLI are loaded', () => {
    const code = `${['server/main.js', 'worker/main.js', 'cli/main.js', 'shared/index.js']
      .map((p) => `await import(${JSON.stringify(dist(p))});`)
      .join('\n')}`;
    const stderr = stderrOf(code);
    // prom-client (metrics) looks for @opentelemetry/api itself, for exemplars; that is not the SDK.
    const loads = stderr.split('\n').filter((l) => l.startsWith('RESOLVED ') && !l.includes('/prom-client/'));
    expect(loads).toEqual([]);
  });

  it('happens in openTracing', () => {
    const code = `const { openTracing } = await import(${JSON.stringify(dist('shared/index.js'))});
const t = await openTracing({ url: 'http://127.0.0.1:9/v1/traces', serviceName: 'x', headers: {} });
await t.shutdown();`;
    const stderr = stderrOf(code);
    expect(stderr).toContain('RESOLVED @opentelemetry/sdk-trace-base');
    expect(stderr).toContain('RESOLVED @opentelemetry/exporter-trace-otlp-http');
  });
});
