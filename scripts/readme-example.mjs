#!/usr/bin/env node
// Runs the README's quick-start playbook command exactly as written (minus `npm ci &&`),
// so the README cannot drift from what works. Part of `npm test`.
import { execSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const block = readme.match(/<!-- quickstart -->\s*```(?:sh|bash)?\n([\s\S]*?)```/);
if (!block) {
  console.error('README.md: no <!-- quickstart --> block found');
  process.exit(1);
}
const runLine = block[1].split('\n').find((l) => l.includes('noetl run'));
if (!runLine) {
  console.error('README.md quick start has no `noetl run` command');
  process.exit(1);
}
const command = runLine.replace(/^\s*npm ci\s*&&\s*/, '').trim();
console.log(`README example: ${command}`);
const out = execSync(command, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
process.stdout.write(out);
if (!out.includes('COMPLETED')) {
  console.error('README example did not complete');
  process.exit(1);
}
