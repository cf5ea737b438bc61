#!/usr/bin/env node
// Where a process's CPU time went, from a `node --cpu-prof` profile (bench/embedded.mjs --profile
// writes the server's): self time by part (PGlite's WebAssembly, fastify, node's HTTP, our parts,
// GC, idle), and the inclusive time of the functions named with --fn (each counted once per
// sample however deep it recurses).
//   node bench/cpu-profile.mjs PROFILE.cpuprofile [--fn fsync,claimCommand,writeBatch] [--per 40]
// --per N divides every figure by N (a run's steps: milliseconds per step). --window FN counts
// only the samples from the first to the last one with FN on the stack (claimCommand: the runs,
// without the start-up and the idle time after them).
import { readFileSync } from 'node:fs';

const file = process.argv[2];
if (!file) {
  console.error('usage: node bench/cpu-profile.mjs PROFILE.cpuprofile [--fn a,b] [--per N]');
  process.exit(2);
}
const argOf = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : dflt;
};
const fns = argOf('--fn', '').split(',').filter(Boolean);
const per = Number(argOf('--per', '1'));
const windowFn = argOf('--window', undefined);
const profile = JSON.parse(readFileSync(file, 'utf8'));

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

function part(frame) {
  const { url, functionName } = frame;
  if (functionName === '(garbage collector)') return 'GC';
  if (functionName === '(idle)') return 'idle';
  if (functionName === '(program)') return 'program (native, unattributed)';
  if (url.startsWith('wasm://') || url.includes('@electric-sql/pglite')) return 'PGlite (WebAssembly + glue)';
  if (
    /node_modules\/(fastify|@fastify|light-my-request|find-my-way|avvio|fast-json-stringify|ajv|secure-json-parse)/.test(
      url,
    )
  )
    return 'fastify (+ inject, ajv, serializers)';
  if (url.includes('node_modules/pino') || url.includes('node_modules/sonic-boom')) return 'logging (pino)';
  if (url.includes('minijinja')) return 'templates (minijinja)';
  if (url.includes('node_modules/')) return 'other dependencies';
  const m = /\/dist\/([a-z-]+)\//.exec(url);
  if (m) return `noetl ${m[1]}`;
  if (url.startsWith('node:') || url === '') return 'node internals (http, net, streams, timers)';
  return 'other';
}

const onStack = (sampleId, name) => {
  for (let id = sampleId; id !== undefined; id = parent.get(id))
    if (byId.get(id).callFrame.functionName === name) return true;
  return false;
};
let from = 0;
let to = profile.samples.length - 1;
if (windowFn) {
  from = profile.samples.findIndex((s) => onStack(s, windowFn));
  while (to > from && !onStack(profile.samples[to], windowFn)) to--;
  if (from < 0) throw new Error(`no sample has ${windowFn} on its stack`);
}

const self = new Map();
const inclusive = new Map(fns.map((f) => [f, 0]));
let total = 0;
const { samples, timeDeltas } = profile;
for (let i = from; i <= to; i++) {
  const ms = (timeDeltas[i] ?? 0) / 1000;
  total += ms;
  const node = byId.get(samples[i]);
  const p = part(node.callFrame);
  self.set(p, (self.get(p) ?? 0) + ms);
  if (fns.length === 0) continue;
  const seen = new Set();
  for (let id = samples[i]; id !== undefined; id = parent.get(id)) {
    const name = byId.get(id).callFrame.functionName;
    for (const f of fns) if (name === f) seen.add(f);
  }
  for (const f of seen) inclusive.set(f, inclusive.get(f) + ms);
}

const busy = total - (self.get('idle') ?? 0);
const f = (ms) => (ms / per).toFixed(per === 1 ? 0 : 3).padStart(9);
console.log(`${file}\nprofile ${f(total)} ms${per === 1 ? '' : ` / ${per}`}, busy ${f(busy)}`);
for (const [p, ms] of [...self].sort((a, b) => b[1] - a[1]))
  console.log(`  ${p.padEnd(48)} ${f(ms)}  ${((100 * ms) / total).toFixed(1).padStart(5)}%`);
if (fns.length > 0) {
  console.log('inclusive:');
  for (const [name, ms] of inclusive) console.log(`  ${name.padEnd(48)} ${f(ms)}`);
}
