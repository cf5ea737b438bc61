#!/usr/bin/env node
// bench/local.mjs's per-step figures for two builds, paired in one process: each round runs the
// 1,000-step no-op chain and the 10,000-item sequential loop on build A then B (B then A on odd
// rounds), so both share the machine's load. For a before/after comparison on a busy host.
// Run: node bench/local-ab.mjs --a /path/to/before/dist --b /path/to/after/dist [--rounds N]
// Prints medians per build and B/A ratios. Default --rounds 15.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const ROUNDS = Number(arg('--rounds', 15));
const builds = { A: arg('--a'), B: arg('--b') };
if (!builds.A || !builds.B) throw new Error('usage: --a DIST --b DIST');
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

function chainYaml(n) {
  const lines = ['apiVersion: noetl.io/v2', 'kind: Playbook', 'metadata: { name: chain }', 'workflow:'];
  for (let i = 0; i < n; i++) {
    lines.push(`  - step: ${i === 0 ? 'start' : `s${i}`}`, '    tool: { kind: noop }');
    if (i < n - 1) lines.push(`    next: [ s${i + 1} ]`);
  }
  return lines.join('\n');
}
const LOOP = `apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: loop }
workload: { n: 10000 }
workflow:
  - step: start
    loop: { in: "{{ n }}", iterator: i, spec: { mode: sequential } }
    tool: { kind: noop }
`;

const dir = mkdtempSync(join(tmpdir(), 'noetl-bench-ab-'));
const loaded = {};
for (const [key, dist] of Object.entries(builds)) {
  const { parsePlaybook } = await import(pathToFileURL(`${dist}/dsl/index.js`).href);
  const { runLocal } = await import(pathToFileURL(`${dist}/local/index.js`).href);
  const parse = (yaml) => {
    const { playbook, diagnostics } = parsePlaybook(yaml);
    if (!playbook) throw new Error(JSON.stringify(diagnostics.slice(0, 3)));
    return playbook;
  };
  loaded[key] = { runLocal, chain: parse(chainYaml(1000)), loop: parse(LOOP) };
}

async function perUnit(key, which, units) {
  const b = loaded[key];
  const t0 = performance.now();
  const result = await b.runLocal({ playbook: b[which], runDir: dir });
  const ms = performance.now() - t0;
  if (result.status !== 'COMPLETED') throw new Error(`run failed: ${result.error}`);
  return (ms * 1000) / units;
}

const samples = { A: { chain: [], loop: [] }, B: { chain: [], loop: [] } };
for (let r = -2; r < ROUNDS; r++) {
  for (const key of r % 2 === 0 ? ['A', 'B'] : ['B', 'A']) {
    const chain = await perUnit(key, 'chain', 1000);
    const loop = await perUnit(key, 'loop', 10000);
    if (r >= 0) {
      samples[key].chain.push(chain);
      samples[key].loop.push(loop);
    }
  }
}
rmSync(dir, { recursive: true, force: true });
const out = {};
for (const which of ['chain', 'loop']) {
  const a = median(samples.A[which]);
  const b = median(samples.B[which]);
  out[which] = { A: Number(a.toFixed(1)), B: Number(b.toFixed(1)), ratio: Number((b / a).toFixed(3)) };
}
console.log(JSON.stringify({ rounds: ROUNDS, usPerUnit: out }, null, 1));
