#!/usr/bin/env node
// Where a process's CPU went, from V8 CPU profiles (`node --cpu-prof`, or
// `BENCH_PROFILE=<dir> node bench/distributed.mjs`): each sample is counted for the innermost
// JavaScript frame's source (a file of ours under dist/, a package under node_modules, a node:
// built-in module) or V8's own bucket ((garbage collector), (program): native code, I/O).
//   node bench/cpu-profile-summary.mjs <file.cpuprofile>... [--top 25]
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const topAt = args.indexOf('--top');
const TOP = topAt >= 0 ? Number(args[topAt + 1]) : 25;
const afterAt = args.indexOf('--after-ms');
// Only samples this long after the profile's start (leaves out start-up: module loading, schemas).
const AFTER_MS = afterAt >= 0 ? Number(args[afterAt + 1]) : 0;
const TIMELINE = args.includes('--timeline');
const files = args.filter(
  (a, i) => !a.startsWith('--') && (topAt < 0 || i !== topAt + 1) && (afterAt < 0 || i !== afterAt + 1),
);

function bucketOf(node) {
  const { url, functionName } = node.callFrame;
  if (!url) return `(${functionName.replace(/[()]/g, '') || 'anonymous native'})`;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return `pkg ${pkg[1]}`;
  const ours = /\/dist\/(.+)$/.exec(url);
  if (ours) return `noetl ${ours[1]}`;
  if (url.startsWith('node:')) return url;
  return url;
}

for (const file of files) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const deltas = profile.timeDeltas;
  let total = 0;
  let idle = 0;
  let at = 0;
  const timeline = [];
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]);
    at += (deltas[i] ?? 0) / 1000;
    const ms = (deltas[i + 1] ?? deltas[i] ?? 0) / 1000;
    const bucket = bucketOf(node);
    if (at < AFTER_MS) continue;
    if (bucket === '(idle)') {
      idle += ms;
      continue;
    }
    total += ms;
    self.set(bucket, (self.get(bucket) ?? 0) + ms);
    const second = Math.floor(at / 1000);
    timeline[second] = (timeline[second] ?? 0) + ms;
  }
  if (TIMELINE) console.log(`busy ms per second: ${[...timeline].map((x) => (x ?? 0).toFixed(0)).join(' ')}`);
  const wall = (profile.endTime - profile.startTime) / 1000;
  console.log(`${file}: ${total.toFixed(0)} ms busy of ${wall.toFixed(0)} ms (idle ${idle.toFixed(0)} ms)`);
  const rows = [...self].sort((a, b) => b[1] - a[1]).slice(0, TOP);
  for (const [bucket, ms] of rows) {
    console.log(
      `  ${((100 * ms) / total).toFixed(1).padStart(5)}%  ${ms.toFixed(0).padStart(7)} ms  ${bucket}`,
    );
  }
}
