#!/usr/bin/env node
import { main } from '../dist/worker/main.js';

process.exitCode = await main(process.argv.slice(2), process.env);
