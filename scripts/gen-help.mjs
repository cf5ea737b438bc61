#!/usr/bin/env node
// Writes dist/cli/help.txt: the top-level help of the real command tree, so `noetl --help`
// can print it without loading the CLI (bin/noetl.js). Run after tsc (npm run build).
import { writeFileSync } from 'node:fs';

const { buildProgram } = await import('../dist/cli/main.js');
let text = '';
const program = buildProgram({ exitCode: 0, debug: () => false, env: {} });
program.configureOutput({ writeOut: (s) => (text += s), getOutHelpWidth: () => 80 });
program.outputHelp();
writeFileSync(new URL('../dist/cli/help.txt', import.meta.url), text);
