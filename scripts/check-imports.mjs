#!/usr/bin/env node
// Enforces DESIGN.md section 4: which part may import which, through its index.ts only,
// and that the pure parts (dsl, template, engine) import no node: modules.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, dirname, resolve, sep } from 'node:path';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const src = join(root, 'src');
const ALL = [
  'shared',
  'client',
  'config',
  'dsl',
  'template',
  'engine',
  'tools',
  'store',
  'bus',
  'server',
  'worker',
  'cli',
  'local',
];
const allowed = {
  shared: [],
  client: ['shared'],
  config: ['shared'],
  template: ['shared'],
  dsl: ['shared', 'template'],
  engine: ['shared', 'dsl', 'template'],
  tools: ['shared', 'template', 'dsl'],
  store: ['shared', 'engine'],
  bus: ['shared'],
  local: ['shared', 'config', 'dsl', 'template', 'engine', 'tools'],
  worker: ['shared', 'client', 'config', 'template', 'tools', 'bus', 'dsl', 'engine'],
  server: [
    'shared',
    'client',
    'config',
    'dsl',
    'template',
    'engine',
    'tools',
    'store',
    'bus',
    'worker',
    'local',
  ],
  cli: ALL,
};
const pure = new Set(['dsl', 'template', 'engine']);
// Files a part may import directly instead of through the folder's index.ts, because the index
// loads heavy modules the importer never uses (STYLE.md 5). Measured on this machine:
// config/sources.js and config/env-vars.js skip config/index.js's `yaml` (~150 ms).
const lightDoors = {
  cli: new Set(['config/sources.js', 'config/env-vars.js']),
};

function* walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* walk(p);
    else if (p.endsWith('.ts')) yield p;
  }
}

const problems = [];
const importRe =
  /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
for (const file of walk(src)) {
  const part = relative(src, file).split(sep)[0];
  if (!allowed[part]) {
    problems.push(`${relative(root, file)}: folder src/${part} is not a part listed in DESIGN.md`);
    continue;
  }
  const isTest = file.endsWith('.test.ts');
  const text = readFileSync(file, 'utf8');
  for (const m of text.matchAll(importRe)) {
    const spec = m[1] ?? m[2];
    if (!spec) continue;
    if (spec.startsWith('node:') && pure.has(part) && !isTest) {
      problems.push(`${relative(root, file)}: pure part '${part}' imports ${spec}`);
    }
    if (!spec.startsWith('.')) continue;
    const target = resolve(dirname(file), spec);
    const rel = relative(src, target);
    if (rel.startsWith('..')) continue;
    const targetPart = rel.split(sep)[0];
    if (targetPart === part) continue;
    if (!isTest && !allowed[part].includes(targetPart)) {
      problems.push(`${relative(root, file)}: '${part}' may not import '${targetPart}' (${spec})`);
    }
    const inner = rel.split(sep).slice(1).join('/');
    const light = lightDoors[part]?.has(`${targetPart}/${inner}`) ?? false;
    if (inner !== 'index.js' && inner !== 'index.ts' && inner !== '' && !light) {
      problems.push(`${relative(root, file)}: import '${targetPart}' through its index.js, not ${spec}`);
    }
  }
}
if (problems.length) {
  for (const p of problems) console.error(p);
  process.exit(1);
}
