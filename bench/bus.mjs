#!/usr/bin/env node
// Bus latency (STYLE.md 21: a program that prints figures, not a test).
//   npx tsc -p tsconfig.build.json && node bench/bus.mjs [publishes=2000] [roundTrips=1000]
// Measures on NATS_URL (default nats://127.0.0.1:4222), in a private stream it deletes after:
//   1. JetStream publish-and-ack through NatsBus.publish, sequential (the floor of one
//      command hand-over), against raw nats.js js.publish measured in the same run;
//   2. publish -> delivered to a handler -> ack, sequential, through NatsBus;
//   3. the same round trip on MemoryBus (the embedded server's transport).
import { performance } from 'node:perf_hooks';
import { connect } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { MemoryBus, NatsBus } from '../dist/bus/index.js';

const PUBLISHES = Number(process.argv[2] ?? 2000);
const ROUND_TRIPS = Number(process.argv[3] ?? 1000);
const WARMUP = 200;
const url = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const ns = `bench_${process.pid}_${Date.now().toString(36)}`;
const names = { stream: `${ns}_cmd`, subject: `${ns}.commands`, consumer: `${ns}_wp` };

let seq = 0;
function note() {
  seq++;
  const executionId = `58912345678901${String(seq).padStart(5, '0')}`;
  const eventId = `58912345678902${String(seq).padStart(5, '0')}`;
  return {
    execution_id: executionId,
    event_id: eventId,
    command_id: `${executionId}:step:${eventId}`,
    step: 'step',
    server_url: 'http://127.0.0.1:8082',
    execution_pool: 'shared',
  };
}

function stats(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
  return {
    n: s.length,
    median: at(0.5),
    p99: at(0.99),
    mean: s.reduce((a, b) => a + b, 0) / s.length,
  };
}

const fmt = (ms) => `${ms.toFixed(3)} ms`;
function row(label, st) {
  console.log(
    `${label.padEnd(44)} n=${String(st.n).padStart(5)}  median ${fmt(st.median).padStart(10)}  p99 ${fmt(st.p99).padStart(10)}  mean ${fmt(st.mean).padStart(10)}`,
  );
}

async function timed(count, fn) {
  for (let i = 0; i < WARMUP; i++) await fn();
  const samples = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    await fn();
    samples.push(performance.now() - t0);
  }
  return stats(samples);
}

/** Sequential publish -> handler -> ack; returns [publish->delivered, publish->acked]. */
async function roundTrip(bus, count) {
  let waiter;
  const sub = await bus.subscribe(
    {},
    (n, d) => {
      const delivered = performance.now();
      d.ack();
      waiter?.({ delivered, acked: performance.now() });
    },
    { maxInFlight: 1 },
  );
  const delivered = [];
  const acked = [];
  for (let i = 0; i < WARMUP + count; i++) {
    const got = new Promise((r) => (waiter = r));
    const t0 = performance.now();
    await bus.publish(note());
    const t = await got;
    if (i >= WARMUP) {
      delivered.push(t.delivered - t0);
      acked.push(t.acked - t0);
    }
  }
  await sub.stop({ graceMs: 1000 });
  return [stats(delivered), stats(acked)];
}

const admin = await connect({ servers: url });
const jsm = await jetstreamManager(admin);
const bus = await NatsBus.connect({ url, ...names });
try {
  const info = admin.info;
  console.log(
    `bus bench: nats-server ${info?.version} at ${url}, node ${process.version}, ${PUBLISHES} publishes, ${ROUND_TRIPS} round trips, ${WARMUP} warm-up each`,
  );

  const raw = jetstream(admin);
  const rawSubject = `${names.subject}.shared.1`;
  let rawSeq = 0;
  const rawPub = await timed(PUBLISHES, () =>
    raw.publish(rawSubject, JSON.stringify(note()), { msgID: `raw-${++rawSeq}` }),
  );
  const busPub = await timed(PUBLISHES, () => bus.publish(note()));
  // drop what the publish phases stored, so the round trip starts on an empty stream
  await jsm.streams.purge(names.stream);
  const [natsDelivered, natsAcked] = await roundTrip(bus, ROUND_TRIPS);
  const memory = new MemoryBus();
  const [memDelivered, memAcked] = await roundTrip(memory, ROUND_TRIPS);
  await memory.close();

  row('baseline: raw js.publish + ack', rawPub);
  row('NatsBus.publish + ack (file stream)', busPub);
  row('NatsBus publish -> handler', natsDelivered);
  row('NatsBus publish -> handler -> ack', natsAcked);
  row('MemoryBus publish -> handler -> ack', memAcked);
  console.log(
    `ratio NatsBus.publish / raw js.publish (median): ${(busPub.median / rawPub.median).toFixed(2)}; memory publish->handler median ${fmt(memDelivered.median)}`,
  );
} finally {
  await bus.close({ graceMs: 1000 });
  await jsm.streams.delete(names.stream).catch(() => false);
  await admin.close();
}
