#!/usr/bin/env node
// A chain step's store work on PGlite (issue 17), without the server: under the execution's lock,
// the append of a step's events (command.started, call.done, command.completed, step.enter,
// command.issued) with the next command row, that command's claim, and the commit (fsync on).
// Variants run interleaved, step by step, in one process, each on its own store, so a shared
// machine's load falls on all alike; medians of each part, in ms.
//   npm run build && node bench/pglite-step.mjs [--steps 600] [--dist dist] VARIANT...
// VARIANT: `label` or `label=SQL;SQL` (run on its store first, `{{schema}}` bound). A label
// starting with `claim-` claims with the claim statement after the append (the way before
// claims went with the append); otherwise the claim goes with the append (AppendBatch.claims).
// A label holding `+lock` takes the advisory lock under the execution's mutex, as PGlite did
// before it declared `serialTransactions`. --grow SQL: run on the stores whose label ends in
// `+grow` after the warm-up (50 steps), once the statements are prepared: tables grown after the
// plans were made. A label holding `fresh` marks the batch `fresh` (the lean append, as the
// server's decisions write it).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const argOf = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args.splice(i, 2)[1] : dflt;
};
const STEPS = Number(argOf('--steps', '600'));
const DIST = resolve(argOf('--dist', fileURLToPath(new URL('../dist', import.meta.url))));
const GROW = argOf('--grow', undefined);
const WARM = 50;
const { openStore } = await import(pathToFileURL(join(DIST, 'store', 'index.js')).href);
const { SnowflakeIdGenerator, systemClock } = await import(
  pathToFileURL(join(DIST, 'shared', 'index.js')).href
);
const ids = new SnowflakeIdGenerator(systemClock, 5);
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const sqlOf = (text) => text.replaceAll('{{schema}}', 'noetl');

const variants = (args.length > 0 ? args : ['claim-with-append']).map((v) => {
  const i = v.indexOf('=');
  return { label: i < 0 ? v : v.slice(0, i), pre: i < 0 ? '' : v.slice(i + 1), parts: [] };
});
const dir = mkdtempSync(join(tmpdir(), 'noetl-bench-pglite-step-'));

/** The events and command row of one chain step, shaped as the server writes them. */
function stepBatch(v, i) {
  const worker = 'w1';
  const key = v.commandKey;
  const by = { command_id: key, worker_id: worker };
  const worker_ = (type, status, result, extra = {}) => ({
    executionId: v.executionId,
    eventId: ids.next(),
    eventType: type,
    nodeId: `s${i}`,
    nodeName: `s${i}`,
    status,
    result,
    meta: by,
    workerId: worker,
    commandKey: key,
    idempotencyKey: `${key}:${type}${extra.suffix ?? ''}`,
    createdAt: new Date().toISOString(),
  });
  const events = [
    worker_('command.started', 'RUNNING', { status: 'RUNNING', context: { command_id: key } }),
    worker_(
      'call.done',
      'COMPLETED',
      {
        status: 'COMPLETED',
        context: { command_id: key, call_index: 0, result: { status: 'success', context: { data: {} } } },
      },
      { suffix: ':0' },
    ),
    worker_('command.completed', 'COMPLETED', {
      status: 'COMPLETED',
      context: { command_id: key, status: 'COMPLETED' },
    }),
  ];
  const completed = events[2].eventId;
  const next = `s${i + 1}`;
  const enter = {
    executionId: v.executionId,
    eventId: ids.next(),
    eventType: 'step.enter',
    catalogId: v.catalogId,
    parentEventId: completed,
    nodeId: next,
    nodeName: next,
    status: 'RUNNING',
    context: {},
  };
  const commandId = ids.next();
  const nextKey = `${v.executionId}:${next}:${commandId}`;
  const context = {
    tool_config: { shape: 'single', tasks: [{ label: next, kind: 'noop', config: {} }] },
    args: {},
    render_context: {},
  };
  const issued = {
    executionId: v.executionId,
    eventId: commandId,
    eventType: 'command.issued',
    catalogId: v.catalogId,
    parentEventId: completed,
    nodeId: next,
    nodeName: next,
    nodeType: 'noop',
    status: 'PENDING',
    context,
    meta: { command_id: nextKey, step: next, tool_kind: 'noop', attempt: 1 },
    commandKey: nextKey,
  };
  const command = {
    commandId,
    commandKey: nextKey,
    executionId: v.executionId,
    catalogId: v.catalogId,
    stepName: next,
    toolKind: 'noop',
    executionPool: 'shared',
    context,
    attempt: 1,
  };
  return { events: [...events, enter, issued], command, nextKey };
}

async function step(v, i) {
  const { events, command, nextKey } = stepBatch(v, i);
  const separate = v.label.startsWith('claim-');
  const t = [performance.now()];
  await v.store.withExecutionLock(v.executionId, async (tx) => {
    t.push(performance.now());
    const claims = separate ? [] : [{ commandId: command.commandId, workerId: 'w1', eventId: ids.next() }];
    const fresh = v.label.includes('fresh');
    const r = await tx.events.append({
      events,
      commands: [command],
      ...(claims.length ? { claims } : {}),
      ...(fresh ? { fresh } : {}),
    });
    if (!separate && r.claimed?.length !== 1) throw new Error('not claimed with the append');
    t.push(performance.now());
    if (separate) await tx.commands.claim(command.commandId, 'w1');
    t.push(performance.now());
  });
  t.push(performance.now());
  v.commandKey = nextKey;
  return {
    lockAndHead: t[1] - t[0],
    append: t[2] - t[1],
    claim: t[3] - t[2],
    commit: t[4] - t[3],
    total: t[4] - t[0],
  };
}

try {
  for (const [n, v] of variants.entries()) {
    v.store = await openStore({
      dataDir: join(dir, `store-${n}`),
      migrationsDir: join(DIST, '..', 'migrations'),
    });
    for (const q of v.pre.split(';').filter((s) => s.trim())) await v.store.query(sqlOf(q));
    const entry = await v.store.catalog.register({ path: 'bench/step', kind: 'Playbook', content: 'x' });
    v.catalogId = entry.catalogId;
    if (v.label.includes('+lock')) v.store.root.serialTransactions = false;
    v.executionId = ids.next();
    const startId = ids.next();
    v.commandKey = `${v.executionId}:s0:${startId}`;
    await v.store.events.append({
      execution: { executionId: v.executionId, catalogId: v.catalogId, path: 'bench/step' },
      events: [
        {
          executionId: v.executionId,
          eventId: startId,
          eventType: 'playbook_started',
          catalogId: v.catalogId,
        },
      ],
    });
  }
  for (let i = 0; i < STEPS + WARM; i++) {
    for (const v of variants) {
      if (i === WARM && GROW && v.label.endsWith('+grow')) await v.store.query(sqlOf(GROW));
      const part = await step(v, i);
      if (i >= WARM) v.parts.push(part);
    }
  }
  for (const v of variants) {
    const keys = Object.keys(v.parts[0]);
    console.log(
      `${v.label.padEnd(24)} ${keys.map((k) => `${k} ${median(v.parts.map((p) => p[k])).toFixed(3)}`).join('  ')}`,
    );
  }
} finally {
  for (const v of variants) await v.store?.close();
  rmSync(dir, { recursive: true, force: true });
}
