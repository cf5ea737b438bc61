#!/usr/bin/env node
// Refreshes docs/ui/*.png: builds the UI, then runs the browser tests (test/ui), which save a
// screenshot of each page they visit when NOETL_UI_SCREENSHOTS names a directory.
// Each test file saves the pages it visits: test/ui/ui.test.ts the dashboard, catalog, executions,
// credentials, workers and token prompt; test/ui/schedules.test.ts schedules, schedule, schedule-form.
// Usage: node scripts/ui-screenshots.mjs  (needs /usr/bin/chromium and a built dist/).
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const run = (cmd, args, env = {}) => {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  if (r.status !== 0) process.exit(r.status ?? 1);
};
run('npx', ['vite', 'build', '--config', 'ui/vite.config.ts', '--logLevel', 'warn']);
run('npx', ['vitest', 'run', 'test/ui'], { NOETL_UI_SCREENSHOTS: join(root, 'docs', 'ui') });
console.log(`screenshots written to ${join(root, 'docs', 'ui')}`);
