#!/usr/bin/env node
// Entry point. `--version` and the top-level `--help` are answered from files without loading
// the CLI (commander alone costs more than Node's own start-up here); the help text is generated
// from the real command tree at build time (scripts/gen-help.mjs) and a test keeps them equal.
import { readFileSync } from 'node:fs';

// `noetl ... | head` closes the pipe early: stop quietly instead of dying on EPIPE.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

const args = process.argv.slice(2);
const fast = () => {
  if (args.length !== 1) return args.length === 0 ? 'help' : undefined;
  if (args[0] === '--version' || args[0] === '-V') return 'version';
  if (args[0] === '--help' || args[0] === '-h') return 'help';
  return undefined;
};
const mode = fast();
let answered = false;
try {
  if (mode === 'version') {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    process.stdout.write(`${pkg.version}\n`);
    answered = true;
  } else if (mode === 'help') {
    process.stdout.write(readFileSync(new URL('../dist/cli/help.txt', import.meta.url), 'utf8'));
    answered = true;
  }
} catch {
  // fall through to the full CLI
}
if (!answered) {
  // A CLI process is short. At V8's default threshold its optimizing compiler compiled the hot
  // functions of a 1,000-step `noetl run` on a background thread, and the run ended before that
  // code paid back: about half of a step's CPU (docs/benchmarks.md, "Cold `noetl run`: the
  // step"). Four times the interrupt budget (V8 11, Node 20: 4 x 66 KiB) leaves a short run to
  // the interpreter and baseline code, and optimizes a long one a little later. Other V8 versions
  // tier differently (Maglev) and keep their defaults.
  if (process.versions.v8.startsWith('11.')) {
    const { setFlagsFromString } = await import('node:v8');
    setFlagsFromString('--interrupt-budget=270336');
  }
  const { main } = await import('../dist/cli/main.js');
  process.exitCode = await main(process.argv);
}
