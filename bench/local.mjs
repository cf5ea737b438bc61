#!/usr/bin/env node
// Local-mode overhead: no-op chains of 1,000 and 10,000 steps, a 10,000-item loop, and the CLI's
// start-up against `node -e 0`. Run: npm run build && node bench/local.mjs [--runs N]
// Prints medians; the event log is written to a temp dir exactly as `noetl run` writes it.
// Default --runs 7.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parsePlaybook } from '../dist/dsl/index.js';
import { runLocal } from '../dist/local/index.js';

const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 7;
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
  return lines.join('\n');
}

function loopYaml(n, mode) {
  return `apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: loop }
workload: { n: ${n} }
workflow:
  - step: start
    loop: { in: "{{ n }}", iterator: i, spec: { mode: ${mode}, max_in_flight: 16 } }
    tool: { kind: noop }
`;
}

const dir = mkdtempSync(join(tmpdir(), 'noetl-bench-'));

// Warm-up runs first (JIT), then the median of the measured runs; a run's time includes writing
// its JSONL event log and flushing it.
async function timeRun(yaml, units, runs, warmup) {
  const { playbook, diagnostics } = parsePlaybook(yaml);
  if (!playbook) throw new Error(JSON.stringify(diagnostics.slice(0, 3)));
  const samples = [];
  for (let r = 0; r < runs + warmup; r++) {
    const t0 = performance.now();
    const result = await runLocal({ playbook, runDir: dir });
    const ms = performance.now() - t0;
    if (result.status !== 'COMPLETED') throw new Error(`run failed: ${result.error}`);
    if (r >= warmup) samples.push((ms * 1000) / units);
  }
  return median(samples);
}

const results = {};
results.chain1k = await timeRun(chainYaml(1000), 1000, RUNS * 3, 5);
results.chain10k = await timeRun(chainYaml(10000), 10000, RUNS, 1);
results.loop10kSeq = await timeRun(loopYaml(10000, 'sequential'), 10000, RUNS, 1);
results.loop10kPar = await timeRun(loopYaml(10000, 'parallel'), 10000, RUNS, 1);

function spawnMedian(args, n = 21) {
  const xs = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, args, { stdio: 'ignore' });
    if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}`);
    xs.push(performance.now() - t0);
  }
  return median(xs);
}
const bin = new URL('../bin/noetl.js', import.meta.url).pathname;
// Interleave to share the machine's noise between the baseline and the measured command.
const base = [];
const version = [];
const help = [];
for (let i = 0; i < 5; i++) {
  base.push(spawnMedian(['-e', '0'], 5));
  version.push(spawnMedian([bin, '--version'], 5));
  help.push(spawnMedian([bin, '--help'], 5));
}
results.nodeMs = median(base);
results.versionMs = median(version);
results.helpMs = median(help);
rmSync(dir, { recursive: true, force: true });

const f = (x) => x.toFixed(1);
console.log(
  `medians: 1,000-step chain ${RUNS * 3} runs after 5 warm-up runs; 10,000-step figures ${RUNS} runs after 1`,
);
console.log(`no-op chain, 1,000 steps:     ${f(results.chain1k)} us/step`);
console.log(
  `no-op chain, 10,000 steps:    ${f(results.chain10k)} us/step  (${(results.chain10k / results.chain1k).toFixed(2)}x the 1,000-step figure)`,
);
console.log(`loop of 10,000, sequential:   ${f(results.loop10kSeq)} us/iteration`);
console.log(`loop of 10,000, parallel(16): ${f(results.loop10kPar)} us/iteration`);
console.log(`node -e 0:        ${f(results.nodeMs)} ms`);
console.log(
  `noetl --version:  ${f(results.versionMs)} ms  (${(results.versionMs / results.nodeMs).toFixed(2)}x)`,
);
console.log(`noetl --help:     ${f(results.helpMs)} ms  (${(results.helpMs / results.nodeMs).toFixed(2)}x)`);
if (process.argv.includes('--json')) console.log(JSON.stringify(results));
