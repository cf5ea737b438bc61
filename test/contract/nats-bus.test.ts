// The bus contract on real JetStream (STYLE.md 18), plus what only JetStream does: stream and
// consumer settings, de-dup, poison messages, credentials and a nats-server restart.
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import type { JetStreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NatsBus } from '../../src/bus/index.js';
import type { CommandBus, NatsBusOptions } from '../../src/bus/index.js';
import { freePort, natsServerAvailable, startNatsServer } from '../helpers/nats-server.js';
import { busContract } from './bus.contract.js';
import { deferred, note, waitFor } from './bus-helpers.js';

const NATS_URL = process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222';
const CI = process.env['CI'] === 'true' || process.env['CI'] === '1';
const SHORT_ACK_WAIT_MS = 1_000;

async function reachable(url: string): Promise<boolean> {
  try {
    const nc = await connect({ servers: url, timeout: 2_000 });
    await nc.close();
    return true;
  } catch {
    return false;
  }
}

let seq = 0;
/** A private namespace: stream, subject prefix and consumer names no other test shares. */
function namespace(): Required<Pick<NatsBusOptions, 'stream' | 'subject' | 'consumer'>> {
  const ns = `t${process.pid}_${Date.now().toString(36)}_${++seq}`;
  return { stream: `${ns}_cmd`, subject: `${ns}.commands`, consumer: `${ns}_wp` };
}

function isReleased(bus: CommandBus): Promise<boolean> {
  if (!(bus instanceof NatsBus)) return Promise.resolve(false);
  const settled = bus.closed.then(() => true);
  return Promise.race([settled, new Promise<boolean>((r) => setImmediate(() => r(false)))]);
}

const available = await reachable(NATS_URL);

if (!available && !CI) {
  describe.skip(`NatsBus (no NATS at ${NATS_URL}; under CI=true this fails)`, () => {
    it('needs NATS', () => undefined);
  });
} else {
  describe('NatsBus', { timeout: 30_000 }, () => {
    let admin: NatsConnection;
    let jsm: JetStreamManager;

    beforeAll(async () => {
      if (!available) throw new Error(`NATS is not reachable at ${NATS_URL} (CI requires it)`);
      admin = await connect({ servers: NATS_URL });
      jsm = await jetstreamManager(admin);
    });

    afterAll(async () => {
      await admin?.close();
    });

    async function deleteStream(stream: string): Promise<void> {
      await jsm.streams.delete(stream).catch(() => false);
    }

    /** Every consumer of `stream` has nothing left to deliver and nothing awaiting its ack. */
    async function consumersIdle(stream: string): Promise<boolean> {
      for await (const c of jsm.consumers.list(stream)) {
        if (c.num_pending > 0 || c.num_ack_pending > 0) return false;
      }
      return true;
    }

    busContract('nats', async () => {
      const ns = namespace();
      return Promise.resolve({
        shortAckWaitMs: SHORT_ACK_WAIT_MS,
        open: (options = {}) =>
          NatsBus.connect({ url: NATS_URL, ...ns, ackWaitMs: options.ackWaitMs ?? SHORT_ACK_WAIT_MS }),
        released: isReleased,
        idle: () => consumersIdle(ns.stream),
        dispose: () => deleteStream(ns.stream),
      });
    });

    it('creates the stream and durable consumer with the documented settings', async () => {
      const ns = namespace();
      const bus = await NatsBus.connect({ url: NATS_URL, ...ns, ackWaitMs: 7_000 });
      try {
        const sub = await bus.subscribe({ pool: 'shared' }, () => undefined, { maxInFlight: 1 });
        const s = await jsm.streams.info(ns.stream);
        expect(s.config.subjects).toEqual([ns.subject, `${ns.subject}.>`]);
        expect(s.config.retention).toBe('limits');
        expect(s.config.storage).toBe('file');
        expect(s.config.max_age).toBe(3600 * 1e9);
        const c = await jsm.consumers.info(ns.stream, `${ns.consumer}_shared`);
        expect(c.config).toMatchObject({
          durable_name: `${ns.consumer}_shared`,
          ack_policy: 'explicit',
          deliver_policy: 'all',
          ack_wait: 7_000 * 1e6,
          max_deliver: 1000,
          max_ack_pending: 64,
          filter_subject: `${ns.subject}.shared.>`,
        });
        await sub.stop();
        // a second bus with other limits brings the live consumer in line
        const other = await NatsBus.connect({ url: NATS_URL, ...ns, ackWaitMs: 9_000, maxAckPending: 16 });
        await (await other.subscribe({ pool: 'shared' }, () => undefined, { maxInFlight: 1 })).stop();
        await other.close();
        const c2 = await jsm.consumers.info(ns.stream, `${ns.consumer}_shared`);
        expect(c2.config).toMatchObject({ ack_wait: 9_000 * 1e6, max_ack_pending: 16 });
      } finally {
        await bus.close();
        await deleteStream(ns.stream);
      }
    });

    it('de-duplicates a re-published command_id', async () => {
      const ns = namespace();
      const bus = await NatsBus.connect({ url: NATS_URL, ...ns });
      try {
        const n = note();
        await bus.publish(n);
        await bus.publish(n);
        const s = await jsm.streams.info(ns.stream);
        expect(s.state.messages).toBe(1);
      } finally {
        await bus.close();
        await deleteStream(ns.stream);
      }
    });

    it('terminates an undecodable message, reports it, and keeps delivering', async () => {
      const ns = namespace();
      const bus = await NatsBus.connect({ url: NATS_URL, ...ns });
      try {
        const errors: Error[] = [];
        const got: string[] = [];
        const sub = await bus.subscribe({}, (n) => void got.push(n.command_id), {
          maxInFlight: 2,
          onError: (e) => errors.push(e),
        });
        const raw = await import('@nats-io/jetstream').then((m) => m.jetstream(admin));
        await raw.publish(`${ns.subject}.shared.1`, '{"execution_id":"x","step":1}');
        await raw.publish(`${ns.subject}.shared.2`, 'not json');
        // numbers and quoted strings are both accepted as ids (some publishers quote i64s)
        await raw.publish(
          `${ns.subject}.shared.3`,
          '{"execution_id":"589123456789012345678","event_id":589123456789012345679,"command_id":"c3","step":"s"}',
        );
        await waitFor(() => got.length === 1 && errors.length === 2, 'one good message and two errors');
        expect(got).toEqual(['c3']);
        expect(errors.every((e) => /undecodable/.test(e.message))).toBe(true);
        const c = await jsm.consumers.info(ns.stream, ns.consumer);
        await waitFor(
          async () => (await jsm.consumers.info(ns.stream, ns.consumer)).num_ack_pending === 0,
          'acks',
        );
        expect(c.num_redelivered).toBe(0);
        await sub.stop();
      } finally {
        await bus.close();
        await deleteStream(ns.stream);
      }
    });

    it('competes across two connections on one durable consumer', async () => {
      const ns = namespace();
      const [a, b] = await Promise.all([
        NatsBus.connect({ url: NATS_URL, ...ns }),
        NatsBus.connect({ url: NATS_URL, ...ns }),
      ]);
      try {
        const gate = deferred();
        const seen = { a: [] as string[], b: [] as string[] };
        const subA = await a.subscribe({}, async (n) => (seen.a.push(n.command_id), gate.promise), {
          maxInFlight: 1,
        });
        const subB = await b.subscribe({}, async (n) => (seen.b.push(n.command_id), gate.promise), {
          maxInFlight: 1,
        });
        for (let i = 0; i < 6; i++) await a.publish(note());
        await waitFor(() => subA.inFlight === 1 && subB.inFlight === 1, 'both workers busy');
        gate.resolve();
        await waitFor(() => seen.a.length + seen.b.length === 6, 'all six handled');
        expect(new Set([...seen.a, ...seen.b]).size).toBe(6);
      } finally {
        await Promise.all([a.close(), b.close()]);
        await deleteStream(ns.stream);
      }
    });

    it('fails fast and retryable when no server listens', async () => {
      const port = await freePort();
      const started = Date.now();
      const err = await NatsBus.connect({ url: `nats://127.0.0.1:${port}` }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'BUS_ERROR', retryable: true });
      expect(Date.now() - started).toBeLessThan(5_000);
    });

    it.skipIf(!natsServerAvailable() && !CI)(
      'authenticates with user:password in NATS_URL or as options, and refuses a wrong one',
      async () => {
        const server = await startNatsServer({ args: ['--user', 'noetl', '--pass', 's3cret'] });
        try {
          const ns = namespace();
          const inUrl = await NatsBus.connect({ url: `nats://noetl:s3cret@127.0.0.1:${server.port}`, ...ns });
          await inUrl.publish(note());
          await inUrl.close();
          const asOptions = await NatsBus.connect({
            url: server.url,
            user: 'noetl',
            password: 's3cret',
            ...ns,
          });
          await asOptions.close();
          await expect(
            NatsBus.connect({ url: server.url, user: 'noetl', password: 'wrong', ...ns }),
          ).rejects.toMatchObject({ code: 'BUS_ERROR' });
        } finally {
          await server.dispose();
        }
      },
    );
  });
}
