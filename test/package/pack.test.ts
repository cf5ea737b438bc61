/**
 * What `npm pack` puts in the package (package.json `files`): the built code, the CLI entry
 * points, migrations, docs, deployment files and the built web UI; no sources, tests or source
 * maps (the maps point at src/, which is not shipped, and were a third of the package). Needs a
 * build (`npm test` runs one first); reads the list with `npm pack --dry-run --json`, scripts off.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

interface PackResult {
  name: string;
  size: number;
  unpackedSize: number;
  files: { path: string; size: number }[];
}

let pack: PackResult;
let paths: string[];

beforeAll(() => {
  expect(existsSync(join(ROOT, 'dist', 'cli', 'main.js')), 'dist/ is missing: run `npm run build`').toBe(
    true,
  );
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const parsed = JSON.parse(out) as PackResult[];
  expect(parsed).toHaveLength(1);
  pack = parsed[0] as PackResult;
  paths = pack.files.map((f) => f.path);
}, 60_000);

describe('npm pack contents', () => {
  it('holds the CLI, the built code, migrations, docs, deployment files and the web UI', () => {
    for (const bin of ['bin/noetl.js', 'bin/noetl-server.js', 'bin/noetl-worker.js'])
      expect(paths).toContain(bin);
    for (const file of [
      'package.json',
      'README.md',
      'LICENSE',
      'Dockerfile',
      '.dockerignore',
      'dist/cli/main.js',
      'dist/cli/help.txt',
      'dist/server/main.js',
      'dist/ui/index.html',
    ]) {
      expect(paths, file).toContain(file);
    }
    for (const dir of ['migrations/', 'docs/', 'deploy/', 'dist/ui/assets/']) {
      expect(
        paths.some((p) => p.startsWith(dir)),
        dir,
      ).toBe(true);
    }
    expect(paths.some((p) => /^dist\/ui\/assets\/index-[^/]+\.js$/.test(p))).toBe(true);
    expect(paths.some((p) => /^dist\/ui\/assets\/[^/]+\.css$/.test(p))).toBe(true);
    expect(paths.some((p) => /^migrations\/.+\.sql$/.test(p))).toBe(true);
  });

  it('every file the UI page loads is in the package', () => {
    const html = readFileSync(join(ROOT, 'dist', 'ui', 'index.html'), 'utf8');
    const refs = [...html.matchAll(/(?:src|href)="\/(assets\/[^"]+)"/g)].map((m) => `dist/ui/${m[1] ?? ''}`);
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) expect(paths, ref).toContain(ref);
  });

  it('holds no sources, tests, source maps, local data or secrets', () => {
    const unwanted = paths.filter(
      (p) =>
        p.startsWith('src/') ||
        p.startsWith('test/') ||
        p.startsWith('ui/') ||
        p.startsWith('bench/') ||
        p.startsWith('scripts/') ||
        p.startsWith('node_modules/') ||
        /\.test\.[cm]?[jt]s$/.test(p) ||
        /\.map$/.test(p) ||
        (/\.ts$/.test(p) && !p.endsWith('.d.ts')) ||
        /(^|\/)\.noetl(\/|$)/.test(p) ||
        /(^|\/)\.env(\.|$)/.test(p) ||
        /\.(tgz|log|pem|key)$/.test(p),
    );
    expect(unwanted).toEqual([]);
  });

  it('holds no compiled file whose source is gone (build from a clean dist/)', () => {
    const stale = paths.filter((p) => {
      const m = /^dist\/(?!ui\/)(.+)\.js$/.exec(p);
      return m !== null && !existsSync(join(ROOT, 'src', `${m[1] ?? ''}.ts`));
    });
    expect(stale).toEqual([]);
  });

  it('stays small (docs/benchmarks.md records the sizes)', () => {
    expect(pack.name).toBe('noetl');
    // 1.0 MB packed and 2.1 MB unpacked when written; a doubling means something slipped in.
    expect(pack.size).toBeLessThan(2_000_000);
    expect(pack.unpackedSize).toBeLessThan(4_500_000);
  });
});
