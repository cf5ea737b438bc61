// Counts the fsync calls of a `dist/server/main.js` process (PGlite's WAL flushes go through
// node's fs.fsyncSync, src/store/pglite/durable-fs.ts) and appends the count to
// $FSYNC_COUNT_FILE when it exits. Other processes that load it count nothing.
//   FSYNC_COUNT_FILE=/tmp/n NODE_OPTIONS="--require $PWD/bench/fsync-count.cjs" \
//     node bench/embedded.mjs --runs 1 --steps 400 --chains 0
// Two runs of different lengths give fsyncs a step: (count_b - count_a) / (steps_b - steps_a).
if ((process.argv[1] || '').endsWith('server/main.js') && process.env.FSYNC_COUNT_FILE) {
  const fs = require('node:fs');
  const { syncBuiltinESMExports } = require('node:module');
  const fsyncSync = fs.fsyncSync;
  let count = 0;
  fs.fsyncSync = function countedFsyncSync(fd) {
    count++;
    return fsyncSync.call(this, fd);
  };
  syncBuiltinESMExports(); // `import { fsyncSync } from 'node:fs'` sees the wrapper too
  process.on('exit', () => fs.appendFileSync(process.env.FSYNC_COUNT_FILE, `${count}\n`));
}
