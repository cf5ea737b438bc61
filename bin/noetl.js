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
  const { main } = await import('../dist/cli/main.js');
  process.exitCode = await main(process.argv);
}
