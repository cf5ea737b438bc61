#!/usr/bin/env node
// Where the CPU of a cold `noetl run` of a 1,000-step no-op chain goes, over a 1-step run: CPU
// profiles (`node --cpu-prof`) of both, interleaved, each sample counted for the source file of
// its innermost JavaScript frame, grouped by part; prints the mean of (1,000 steps - 1 step).
// Run: npm run build && node bench/parse-profile.mjs [--runs N] [--steps N] [--bin path/to/noetl.js]
// Default --runs 8, --steps 1000, --bin this checkout's bin/noetl.js. The profiler samples every
// 100 us of the main thread's time: it does not see the optimizing compiler's thread, and it
// slows every part alike; the parts' shares are the figure, not the absolute times.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const RUNS = Number(arg('--runs', 8));
const STEPS = Number(arg('--steps', 1000));
const bin = resolve(arg('--bin', new URL('../bin/noetl.js', import.meta.url).pathname));

function chainYaml(n) {
  const lines = ['apiVersion: noetl.io/v2', 'kind: Playbook', 'metadata: { name: chain }', 'workflow:'];
  for (let i = 0; i < n; i++) {
    const name = i === 0 ? 'start' : `s${i}`;
    lines.push(`  - step: ${name}`, '    tool: { kind: noop }');
    if (i < n - 1) lines.push(`    next: [ s${i + 1} ]`);
  }
  return `${lines.join('\n')}\n`;
}

/** The part a sample belongs to, by its innermost frame's file. */
function part(url, fn) {
  if (fn === '(garbage collector)') return 'garbage collector';
  if (url.includes('/dist/dsl/plain-yaml')) return 'plain YAML reader (src/dsl/plain-yaml.ts)';
  if (url.includes('/dist/dsl/')) return 'normalize + validate (src/dsl)';
  if (/\/dist\/(local\/event-log|local\/event-scrub|shared\/secrets)/.test(url))
    return 'event log: scrub + JSON.stringify (src/local, src/shared/secrets.ts)';
  if (/\/dist\/(engine|tools|local|shared)\//.test(url))
    return 'run: engine, tool pipeline, runner (src/engine, src/tools, src/local)';
  if (url.includes('node_modules/yaml/')) return '`yaml` library';
  return 'the rest (module loading, CLI, Node, idle)';
}

function partsOf(file) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const ms = new Map();
  profile.samples.forEach((id, i) => {
    const { url, functionName } = nodes.get(id).callFrame;
    const key = part(url, functionName);
    ms.set(key, (ms.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  return ms;
}

const dir = mkdtempSync(join(tmpdir(), 'noetl-bench-profile-'));
try {
  const files = { one: join(dir, 'one.yaml'), many: join(dir, 'many.yaml') };
  writeFileSync(files.one, chainYaml(1));
  writeFileSync(files.many, chainYaml(STEPS));
  const sums = { one: new Map(), many: new Map() };
  for (let r = 0; r < RUNS; r++) {
    for (const size of ['one', 'many']) {
      const out = join(dir, `${size}-${r}`);
      const args = [
        '--cpu-prof',
        '--cpu-prof-interval',
        '100',
        '--cpu-prof-dir',
        out,
        bin,
        'run',
        files[size],
      ];
      const p = spawnSync(process.execPath, args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
      if (p.status !== 0) throw new Error(`noetl run exited ${p.status}: ${p.stderr}`);
      const profile = readdirSync(out).find((f) => f.endsWith('.cpuprofile'));
      for (const [k, v] of partsOf(join(out, profile)))
        sums[size].set(k, (sums[size].get(k) ?? 0) + v / RUNS);
    }
  }
  const keys = [...new Set([...sums.one.keys(), ...sums.many.keys()])].sort();
  const load = (await import('node:os')).loadavg()[0].toFixed(1);
  console.log(`${bin}: ${RUNS} profiles each, means; ${STEPS} steps - 1 step; load ${load}`);
  let total = 0;
  for (const k of keys) {
    const d = (sums.many.get(k) ?? 0) - (sums.one.get(k) ?? 0);
    total += d;
    console.log(`${k.padEnd(72)} ${d.toFixed(0).padStart(6)} ms`);
  }
  console.log(`${'total'.padEnd(72)} ${total.toFixed(0).padStart(6)} ms`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
