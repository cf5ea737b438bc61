#!/usr/bin/env node
// Two builds side by side on the cold `noetl run` step of bench/parse.mjs: a 1,000-step no-op
// chain against a 1-step playbook, each run in a fresh `node <checkout>/bin/noetl.js run <file>`
// process, the builds and sizes taken in turns, round by round, so a loaded host's noise falls
// on both. Besides the process's wall time it reads, in the child at exit, the main thread's time
// on a CPU (/proc/thread-self/schedstat, nanoseconds; Linux only) and the process's CPU
// (process.cpuUsage): on a busy host the main thread's CPU moves much less than wall time.
// Run: node bench/parse-ab.mjs --a <checkout> --b <checkout> [--runs 15] [--steps 1000]
// Prints per step = (median t(N steps) - median t(1 step)) / (N - 1), and the same from minima.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const RUNS = Number(arg('--runs', 15));
const STEPS = Number(arg('--steps', 1000));
const builds = ['--a', '--b'].map((flag) => {
  const root = arg(flag);
  if (!root) throw new Error('usage: node bench/parse-ab.mjs --a <checkout> --b <checkout> [--runs N]');
  return { name: flag.slice(2), bin: join(resolve(root), 'bin/noetl.js') };
});
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

function chainYaml(n) {
  const lines = ['apiVersion: noetl.io/v2', 'kind: Playbook', 'metadata: { name: chain }', 'workflow:'];
  for (let i = 0; i < n; i++) {
    const name = i === 0 ? 'start' : `s${i}`;
    lines.push(`  - step: ${name}`, '    tool: { kind: noop }');
    if (i < n - 1) lines.push(`    next: [ s${i + 1} ]`);
  }
  return `${lines.join('\n')}\n`;
}

// Preloaded into each child: its clocks at exit, on stderr.
const PROBE = `
const { readFileSync, writeSync } = require('node:fs');
process.on('exit', () => {
  let main = NaN;
  try { main = Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1e6; } catch {}
  const u = process.cpuUsage();
  writeSync(2, '\\n@@ ' + main + ' ' + (u.user + u.system) / 1000 + '\\n');
});
`;

const dir = mkdtempSync(join(tmpdir(), 'noetl-bench-parse-ab-'));
try {
  const probe = join(dir, 'probe.cjs');
  writeFileSync(probe, PROBE);
  const files = { one: join(dir, 'one.yaml'), many: join(dir, 'many.yaml') };
  writeFileSync(files.one, chainYaml(1));
  writeFileSync(files.many, chainYaml(STEPS));
  const run = (build, size) => {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, ['-r', probe, build.bin, 'run', files[size]], {
      cwd: dir,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const wall = performance.now() - t0;
    if (r.status !== 0) throw new Error(`${build.bin} run exited ${r.status}: ${r.stderr}`);
    const m = /@@ (\S+) (\S+)/.exec(String(r.stderr));
    return { wall, main: Number(m?.[1]), cpu: Number(m?.[2]) };
  };
  const samples = builds.map(() => ({ one: [], many: [] }));
  for (const b of builds) for (const size of ['one', 'many']) run(b, size); // warm-up (disk cache)
  for (let r = 0; r < RUNS; r++) {
    for (let i = 0; i < builds.length; i++) {
      const k = (i + r) % builds.length; // which build goes first alternates
      for (const size of ['one', 'many']) samples[k][size].push(run(builds[k], size));
    }
  }
  const perStep = (xs, ys, pick) => ((pick(ys) - pick(xs)) * 1000) / (STEPS - 1);
  console.log(
    `${RUNS} rounds; ${STEPS}-step chain vs 1 step; node ${process.version}; load ${loadavg()[0].toFixed(1)}`,
  );
  console.log('per step, us: median (from minima); main = main thread on a CPU, cpu = process CPU');
  builds.forEach((b, i) => {
    const { one, many } = samples[i];
    const cell = (key) => {
      const xs = one.map((s) => s[key]);
      const ys = many.map((s) => s[key]);
      return `${perStep(xs, ys, median).toFixed(1)} (${perStep(xs, ys, (v) => Math.min(...v)).toFixed(1)})`;
    };
    const oneWall = median(one.map((s) => s.wall)).toFixed(0);
    console.log(
      `${b.name} ${b.bin}\n  wall ${cell('wall')}  main ${cell('main')}  cpu ${cell('cpu')}  | 1 step: wall ${oneWall} ms`,
    );
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
