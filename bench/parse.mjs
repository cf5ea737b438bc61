#!/usr/bin/env node
// Cold-process cost of a step in `noetl run`: a 1,000-step no-op chain against a 1-step playbook,
// each run in a fresh `node bin/noetl.js run <file>` process, and the in-process parse + validate
// time of the 1,000-step file (parsePlaybook from dist/, after warm-up and on its first call).
// Run: npm run build && node bench/parse.mjs [--runs N] [--steps N]
// Prints medians; per step = (t(N steps) - t(1 step)) / (N - 1). Default --runs 15, --steps 1000.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const RUNS = arg('--runs', 15);
const STEPS = arg('--steps', 1000);
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

const dir = mkdtempSync(join(tmpdir(), 'noetl-bench-parse-'));
const bin = new URL('../bin/noetl.js', import.meta.url).pathname;
const files = { one: join(dir, 'one.yaml'), many: join(dir, 'many.yaml') };
writeFileSync(files.one, chainYaml(1));
writeFileSync(files.many, chainYaml(STEPS));

/** CPU time (user + system, ms) of the children this process waited for; Linux only, else NaN. */
function childrenCpuMs() {
  try {
    // Fields after the command name: cutime and cstime are the 14th and 15th (clock ticks, 100/s).
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[13]) + Number(fields[14])) * 10;
  } catch {
    return NaN;
  }
}

const cpu = new Map();
function spawnMs(args) {
  const c0 = childrenCpuMs();
  const t0 = performance.now();
  // The run's event log goes under the temp dir (cwd/.noetl/runs).
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`noetl ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  const key = args.join(' ');
  cpu.set(key, [...(cpu.get(key) ?? []), childrenCpuMs() - c0]);
  return ms;
}

try {
  // Interleaved, so the machine's noise is shared by both sizes; one warm-up of each (disk cache).
  spawnMs(['run', files.one]);
  spawnMs(['run', files.many]);
  const t = { runOne: [], runMany: [], validateOne: [], validateMany: [] };
  for (let r = 0; r < RUNS; r++) {
    t.runOne.push(spawnMs(['run', files.one]));
    t.runMany.push(spawnMs(['run', files.many]));
    t.validateOne.push(spawnMs(['validate', files.one]));
    t.validateMany.push(spawnMs(['validate', files.many]));
  }

  // In process: the first call (cold code, as in a fresh CLI) and the median after warm-up.
  const { parsePlaybook } = await import('../dist/dsl/index.js');
  const text = chainYaml(STEPS);
  const parse = () => {
    const t0 = performance.now();
    const { playbook } = parsePlaybook(text);
    const ms = performance.now() - t0;
    if (!playbook) throw new Error('the chain did not parse');
    return ms;
  };
  const firstParse = parse();
  for (let i = 0; i < 10; i++) parse();
  const warm = [];
  for (let i = 0; i < RUNS * 2; i++) warm.push(parse());

  const m = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, median(v)]));
  // The first two samples of `run` are the warm-up runs.
  const c = (cmd, file) => median((cpu.get(`${cmd} ${file}`) ?? []).slice(cmd === 'run' ? 1 : 0));
  const us = (ms) => ((ms * 1000) / (STEPS - 1)).toFixed(1);
  const row = (label, value) => console.log(`${label.padEnd(52)} ${value}`);
  const load = (await import('node:os')).loadavg()[0].toFixed(1);
  console.log(`${RUNS} runs, medians; ${STEPS}-step chain vs 1 step; node ${process.version}; load ${load}`);
  console.log(`${''.padEnd(52)} wall, (CPU of the process)`);
  for (const [cmd, one, many] of [
    ['run', m.runOne, m.runMany],
    ['validate', m.validateOne, m.validateMany],
  ]) {
    const cOne = c(cmd, files.one);
    const cMany = c(cmd, files.many);
    row(`noetl ${cmd}, 1 step`, `${one.toFixed(1)} ms (${cOne.toFixed(0)} ms)`);
    row(`noetl ${cmd}, ${STEPS} steps`, `${many.toFixed(1)} ms (${cMany.toFixed(0)} ms)`);
    row(`noetl ${cmd}, per step`, `${us(many - one)} us (${us(cMany - cOne)} us)`);
  }
  row(`parsePlaybook in process, ${STEPS} steps, first call`, `${firstParse.toFixed(1)} ms`);
  row(`parsePlaybook in process, ${STEPS} steps, warm`, `${median(warm).toFixed(1)} ms`);
  row('parsePlaybook in process, warm, per step', `${((median(warm) * 1000) / STEPS).toFixed(1)} us`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
