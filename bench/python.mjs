#!/usr/bin/env node
// Python step cost: (a) a bare `python3 -c pass` start, (b) a python step with a process per step
// (NOETL_PYTHON_POOL=0), (c) a python step on a warm interpreter, both through the local runner
// and the real python tool of the build, and (d) the first step of a fresh pool (cold).
// Run: npm run build && node bench/python.mjs [--runs N] [--steps N]
// Prints medians (ms per step) and the ratio of (c) to (a); default --runs 7 --steps 20.
import { execFileSync, spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { parsePlaybook } from '../dist/dsl/index.js';
import { runLocal } from '../dist/local/index.js';
import { PythonPool } from '../dist/tools/index.js';

const arg = (name, fallback) => {
  const at = process.argv.indexOf(name);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
};
const RUNS = arg('--runs', 7);
const STEPS = arg('--steps', 20);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

// The interpreter the tool runs (a version manager's shim resolved, as the tool does).
const python = execFileSync(
  process.env.PYTHON_PATH ?? 'python3',
  ['-c', 'import sys; print(sys.executable)'],
  {
    encoding: 'utf8',
  },
).trim();

function chainYaml(n) {
  const lines = ['apiVersion: noetl.io/v2', 'kind: Playbook', 'metadata: { name: pychain }', 'workflow:'];
  for (let i = 0; i < n; i++) {
    const name = i === 0 ? 'start' : `s${i}`;
    lines.push(`  - step: ${name}`, `    tool: { kind: python, code: 'result = {"i": ${i}}' }`);
    if (i < n - 1) lines.push(`    next: [ s${i + 1} ]`);
  }
  return lines.join('\n');
}
const { playbook, diagnostics } = parsePlaybook(chainYaml(STEPS));
if (!playbook) throw new Error(JSON.stringify(diagnostics.slice(0, 3)));
const one = parsePlaybook(chainYaml(1)).playbook;

async function perStep(options) {
  const t0 = performance.now();
  const result = await runLocal({ playbook, runDir: false, services: { python }, ...options });
  const ms = performance.now() - t0;
  if (result.status !== 'COMPLETED') throw new Error(`run failed: ${result.error}`);
  return ms / STEPS;
}

function bareStart() {
  const t0 = performance.now();
  const r = spawnSync(python, ['-c', 'pass'], { stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`${python} -c pass exited ${r.status}`);
  return performance.now() - t0;
}

const bare = [];
const processPerStep = [];
const warm = [];
const cold = [];
const pool = new PythonPool({ size: 1 });
await perStep({ pythonPool: false }); // warm-up (JIT, caches)
await perStep({ services: { python, pythonPool: pool } });
// Interleaved, so the machine's noise falls on every figure alike.
for (let r = 0; r < RUNS; r++) {
  for (let i = 0; i < 5; i++) bare.push(bareStart());
  processPerStep.push(await perStep({ pythonPool: false }));
  warm.push(await perStep({ services: { python, pythonPool: pool } }));
  const t0 = performance.now();
  const first = await runLocal({
    playbook: one,
    runDir: false,
    services: { python },
    pythonPool: { size: 1 },
  });
  if (first.status !== 'COMPLETED') throw new Error(`run failed: ${first.error}`);
  cold.push(performance.now() - t0);
}
await pool.close();

const a = median(bare);
const b = median(processPerStep);
const c = median(warm);
const f = (x) => x.toFixed(2);
console.log(
  `python: ${python}; medians of ${RUNS} runs of a ${STEPS}-step chain (bare start: ${bare.length} starts)`,
);
console.log(`(a) bare \`python3 -c pass\` start:     ${f(a)} ms`);
console.log(`(b) python step, process per step:    ${f(b)} ms/step  (${(b / a).toFixed(2)}x a)`);
console.log(
  `(c) python step, warm interpreter:    ${f(c)} ms/step  (${(c / a).toFixed(3)}x a; goal <= 0.2x)`,
);
console.log(`(d) first step of a fresh pool (cold): ${f(median(cold))} ms`);
if (process.argv.includes('--json')) {
  console.log(
    JSON.stringify({ bareMs: a, processPerStepMs: b, warmMs: c, coldMs: median(cold), ratio: c / a }),
  );
}
