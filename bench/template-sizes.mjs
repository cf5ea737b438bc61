#!/usr/bin/env node
// Per-render cost of the templates the size guards touch (join, replace, indent, repetition,
// `a * b` and `a + b` between names), each rendered through the process-wide renderer, against
// the same renderer on a bare `{{ a }}`. Point --dist at another build to compare (e.g. a
// worktree of the commit before): node bench/template-sizes.mjs [--dist DIR] [--runs N]
// Prints the median over runs of the mean microseconds per render (10,000 renders a run).
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const dist = arg('--dist', new URL('../dist', import.meta.url).pathname);
const RUNS = Number(arg('--runs', 7));
const N = 10_000;
const { templates } = await import(pathToFileURL(`${dist}/template/index.js`).href);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const scope = {
  a: 7,
  b: 6,
  xs: Array.from({ length: 20 }, (_, i) => i * 7),
  words: ['alpha', 'beta', 'gamma', 'delta'],
  s: 'a-b-c-d-e-f',
  text: 'one\ntwo\nthree',
  w: 3,
};
const CASES = {
  bare: '{{ a }}',
  'join 20 ints': "{{ xs | join(',') }}",
  'join 4 words': "{{ words | join(', ') }}",
  replace: "{{ s | replace('-', '_') }}",
  'str.replace': "{{ s.replace('-', '_') }}",
  indent: '{{ text | indent(2) }}',
  "'-' * w": "{{ '-' * w }}",
  'a * b': '{{ a * b }}',
  'a + b': '{{ a + b }}',
  'a ~ b': '{{ a ~ b }}',
};

const r = templates();
const out = {};
for (const [name, source] of Object.entries(CASES)) {
  for (let i = 0; i < 2000; i++) r.render(source, scope); // warm-up
  const runs = [];
  for (let k = 0; k < RUNS; k++) {
    const t0 = performance.now();
    for (let i = 0; i < N; i++) r.render(source, scope);
    runs.push(((performance.now() - t0) * 1000) / N);
  }
  out[name] = Number(median(runs).toFixed(2));
}
console.log(JSON.stringify({ dist, runs: RUNS, usPerRender: out }, null, 1));
