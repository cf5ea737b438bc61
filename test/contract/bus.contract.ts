// One behaviour suite for every CommandBus adapter (STYLE.md 4): memory and JetStream run it.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CommandBus, CommandNotification, Delivery, Subscription } from '../../src/bus/index.js';
import { NoetlError } from '../../src/shared/index.js';
import { BIG_EVENT_ID, BIG_EXECUTION_ID, deferred, note, quietPeriod, waitFor } from './bus-helpers.js';

export interface BusOpenOptions {
  /** Ack wait of the consumer / in-process queue; defaults to the harness's short value. */
  readonly ackWaitMs?: number;
}

/** One isolated namespace (stream, subjects, consumer names) per test. */
export interface BusHarness {
  /** Ack wait short enough to test redelivery, long enough for a loaded 2-core machine. */
  readonly shortAckWaitMs: number;
  /** Opens a bus on this test's namespace. */
  open(options?: BusOpenOptions): Promise<CommandBus>;
  /** True once `bus` holds no connection, timer or subscription. */
  released(bus: CommandBus): Promise<boolean>;
  /**
   * True when every notification published on this namespace is settled: none queued, none
   * delivered and awaiting its ack, none waiting out a nak delay. A settled notification is never
   * delivered again, so this proves "no redelivery" without waiting out the ack wait.
   */
  idle(bus: CommandBus): Promise<boolean>;
  /** Removes the namespace (e.g. deletes the stream). */
  dispose(): Promise<void>;
}

interface Received {
  readonly n: CommandNotification;
  readonly d: Delivery;
  readonly at: number;
}

export function busContract(name: string, makeHarness: () => Promise<BusHarness>): void {
  describe(`CommandBus contract: ${name}`, { timeout: 20_000 }, () => {
    let h: BusHarness;
    let opened: CommandBus[];

    beforeEach(async () => {
      h = await makeHarness();
      opened = [];
    });

    afterEach(async () => {
      // A test that leaves a bus open fails (STYLE.md 19), after closing it for the next test.
      const leaked: number[] = [];
      for (const [i, bus] of opened.entries()) {
        if (!(await h.released(bus))) {
          leaked.push(i);
          await bus.close({ graceMs: 0 });
        }
      }
      await h.dispose();
      expect(leaked, 'buses left open by the test').toEqual([]);
    });

    async function open(options?: BusOpenOptions): Promise<CommandBus> {
      const bus = await h.open(options);
      opened.push(bus);
      return bus;
    }

    /** Subscribes and records every delivery; `onDelivery` decides how to settle. */
    async function record(
      bus: CommandBus,
      options: { pool?: string; maxInFlight?: number; retryDelayMs?: number } = {},
      onDelivery: (r: Received) => void | Promise<void> = () => undefined,
    ): Promise<{ sub: Subscription; got: Received[]; errors: Error[] }> {
      const got: Received[] = [];
      const errors: Error[] = [];
      const sub = await bus.subscribe(
        options.pool === undefined ? {} : { pool: options.pool },
        async (n, d) => {
          const r = { n, d, at: Date.now() };
          got.push(r);
          await onDelivery(r);
        },
        {
          maxInFlight: options.maxInFlight ?? 4,
          ...(options.retryDelayMs === undefined ? {} : { retryDelayMs: options.retryDelayMs }),
          onError: (e) => errors.push(e),
        },
      );
      return { sub, got, errors };
    }

    it('says it is connected until closed', async () => {
      const bus = await open();
      expect(bus.connected).toBe(true);
      await bus.close();
      expect(bus.connected).toBe(false);
    });

    it('declares its capabilities', async () => {
      const bus = await open();
      expect(typeof bus.capabilities.durable).toBe('boolean');
      expect(typeof bus.capabilities.crossProcess).toBe('boolean');
      expect(typeof bus.capabilities.dedupOnCommandId).toBe('boolean');
      expect(typeof bus.capabilities.withdraw).toBe('boolean');
      await bus.close();
    });

    it('delivers a published notification once, acked explicitly', async () => {
      const bus = await open();
      const { got } = await record(bus, {}, ({ d }) => d.ack());
      const n = note({ execution_pool: 'shared' });
      await bus.publish(n);
      await waitFor(() => got.length === 1, 'the delivery');
      expect(got[0]!.n).toEqual(n);
      expect(got[0]!.d.deliveryCount).toBe(1);
      expect(got[0]!.d.subject.endsWith(`.shared.${n.execution_id}`)).toBe(true);
      expect(got[0]!.d.settled).toBe(true);
      await waitFor(() => h.idle(bus), 'the ack to reach the bus');
      expect(got).toHaveLength(1);
      await bus.close();
    });

    it('round-trips ids above 2^53 digit for digit, and a trace object', async () => {
      const bus = await open();
      const { got } = await record(bus);
      const n = note({
        execution_id: BIG_EXECUTION_ID,
        event_id: BIG_EVENT_ID,
        command_id: `${BIG_EXECUTION_ID}:load:${BIG_EVENT_ID}:i3`,
        trace: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', n: 1 },
      });
      await bus.publish(n);
      await waitFor(() => got.length === 1, 'the delivery');
      expect(got[0]!.n.execution_id).toBe(BIG_EXECUTION_ID);
      expect(got[0]!.n.event_id).toBe(BIG_EVENT_ID);
      expect(got[0]!.n).toEqual(n);
      await bus.close();
    });

    it('withdraws a notification before its delivery; one delivered stays delivered', async () => {
      const bus = await open();
      expect(bus.capabilities.withdraw).toBe(true);
      const kept = note();
      const gone = note();
      const late = note();
      const receipt = await bus.publish(gone);
      await bus.publish(kept);
      expect(receipt).toBeDefined();
      await bus.withdraw(receipt!);
      await bus.withdraw(receipt!); // twice: nothing left, no error
      const { got } = await record(bus, {}, ({ d }) => d.ack());
      await waitFor(() => got.length === 1, 'the delivery of the kept notification');
      const lateReceipt = await bus.publish(late);
      await waitFor(() => got.length === 2, 'the delivery of the late notification');
      await bus.withdraw(lateReceipt!); // already delivered: stays delivered, no error
      await waitFor(() => h.idle(bus), 'the acks to reach the bus');
      expect(got.map((r) => r.n.command_id)).toEqual([kept.command_id, late.command_id]);
      await bus.close();
    });

    it('delivers notifications published before anyone subscribed', async () => {
      const bus = await open();
      const early = [note(), note()];
      for (const n of early) await bus.publish(n);
      const { got } = await record(bus);
      await waitFor(() => got.length === 2, 'both early notifications');
      expect(got.map((r) => r.n.command_id).sort()).toEqual(early.map((n) => n.command_id).sort());
      await bus.close();
    });

    it('routes by pool: a pool subscriber sees only its pool, default pool is shared', async () => {
      const bus = await open();
      const sys = await record(bus, { pool: 'system' });
      const shared = await record(bus, { pool: 'shared' });
      await bus.publish(note({ execution_pool: 'system', step: 'sys' }));
      await bus.publish(note({ execution_pool: '', step: 'dflt' }));
      await waitFor(() => sys.got.length === 1 && shared.got.length === 1, 'one delivery per pool');
      expect(sys.got[0]!.n.step).toBe('sys');
      expect(shared.got[0]!.n.step).toBe('dflt');
      await expect(bus.subscribe({ pool: 'a.b' }, () => undefined, { maxInFlight: 1 })).rejects.toThrow(
        NoetlError,
      );
      await bus.close();
    });

    it('competing subscribers each get distinct notifications, each exactly once', async () => {
      const bus = await open();
      const gate = deferred();
      const hold = async (): Promise<void> => gate.promise;
      const a = await record(bus, { maxInFlight: 1 }, hold);
      const b = await record(bus, { maxInFlight: 1 }, hold);
      const all = Array.from({ length: 12 }, () => note());
      for (const n of all) await bus.publish(n);
      await waitFor(() => a.sub.inFlight === 1 && b.sub.inFlight === 1, 'both subscribers busy');
      expect(a.got[0]!.n.command_id).not.toBe(b.got[0]!.n.command_id);
      gate.resolve();
      await waitFor(() => a.got.length + b.got.length === all.length, 'every notification handled');
      const ids = [...a.got, ...b.got].map((r) => r.n.command_id);
      expect(new Set(ids).size).toBe(all.length);
      await waitFor(() => h.idle(bus), 'every ack to reach the bus');
      expect(a.got.length + b.got.length).toBe(all.length);
      await bus.close();
    });

    it('nak(delay) redelivers after the delay, with the delivery count raised', async () => {
      const bus = await open();
      const delay = 400;
      const { got } = await record(bus, {}, ({ d }) => (d.deliveryCount === 1 ? d.nak(delay) : d.ack()));
      await bus.publish(note());
      await waitFor(() => got.length === 2, 'the redelivery');
      expect(got[1]!.d.deliveryCount).toBe(2);
      expect(got[1]!.at - got[0]!.at).toBeGreaterThanOrEqual(delay * 0.8);
      expect(got[1]!.n).toEqual(got[0]!.n);
      await bus.close();
    });

    it('a handler that throws without settling gets a nak with retryDelayMs and an onError', async () => {
      const bus = await open();
      const { got, errors } = await record(bus, { retryDelayMs: 50 }, ({ d }) => {
        if (d.deliveryCount === 1) throw new Error('claim endpoint down');
      });
      await bus.publish(note());
      await waitFor(() => got.length === 2, 'the redelivery');
      expect(errors.some((e) => e.message.includes('claim endpoint down'))).toBe(true);
      await bus.close();
    });

    it('term() is final: never redelivered', async () => {
      const bus = await open();
      const { got } = await record(bus, {}, ({ d }) => d.term('no such command'));
      await bus.publish(note());
      await waitFor(() => got.length === 1, 'the delivery');
      await waitFor(() => h.idle(bus), 'the term to reach the bus');
      expect(got).toHaveLength(1);
      await bus.close();
    });

    it('an unsettled notification is redelivered after the ack wait', async () => {
      const bus = await open();
      const stuck = deferred();
      const { got } = await record(bus, { maxInFlight: 2 }, async ({ d }) => {
        if (d.deliveryCount === 1) await stuck.promise; // a worker that hangs before acking
      });
      await bus.publish(note());
      await waitFor(() => got.length === 2, 'the redelivery after ack wait', h.shortAckWaitMs * 5);
      expect(got[1]!.d.deliveryCount).toBe(2);
      expect(got[1]!.at - got[0]!.at).toBeGreaterThanOrEqual(h.shortAckWaitMs * 0.8);
      stuck.resolve();
      await bus.close();
    });

    it('working() holds off the ack-wait redelivery', async () => {
      const bus = await open();
      const { got } = await record(bus, {}, async ({ d }) => {
        const until = Date.now() + h.shortAckWaitMs * 2;
        while (Date.now() < until) {
          d.working();
          await quietPeriod(h.shortAckWaitMs / 4);
        }
        d.ack();
      });
      await bus.publish(note());
      await waitFor(() => got.length === 1 && got[0]!.d.settled, 'the long handler', h.shortAckWaitMs * 6);
      expect(got).toHaveLength(1);
      await bus.close();
    });

    it('never runs more than maxInFlight handlers at once', async () => {
      const bus = await open();
      let running = 0;
      let peak = 0;
      const gates: (() => void)[] = [];
      const { sub, got } = await record(bus, { maxInFlight: 3 }, async ({ d }) => {
        running++;
        peak = Math.max(peak, running);
        d.ack();
        await new Promise<void>((r) => gates.push(r));
        running--;
      });
      for (let i = 0; i < 10; i++) await bus.publish(note());
      await waitFor(() => sub.inFlight === 3, 'three handlers running');
      await quietPeriod(100);
      expect(got).toHaveLength(3);
      for (let released = 0; released < 10; released++) {
        await waitFor(() => gates.length > 0, 'a running handler');
        gates.shift()!();
      }
      await waitFor(() => running === 0, 'the last handler to finish');
      expect(peak).toBe(3);
      expect(new Set(got.map((r) => r.n.command_id)).size).toBe(10);
      await bus.close();
    });

    it('stop() stops pulling at once and resolves when in-flight handlers finished', async () => {
      const bus = await open();
      const gate = deferred();
      let finished = 0;
      const a = await record(bus, { maxInFlight: 2 }, async ({ d }) => {
        d.ack(); // acked after the claim, then the tool runs
        await gate.promise;
        finished++;
      });
      await bus.publish(note());
      await bus.publish(note());
      await waitFor(() => a.sub.inFlight === 2, 'two handlers in flight');
      let stopped = false;
      const stopping = a.sub.stop({ graceMs: 10_000 }).then((r) => {
        stopped = true;
        return r;
      });
      const late = [note(), note()];
      for (const n of late) await bus.publish(n);
      await quietPeriod(50);
      expect(stopped).toBe(false);
      gate.resolve();
      await expect(stopping).resolves.toEqual({ drained: true, released: 0 });
      expect(finished).toBe(2);
      expect(a.got).toHaveLength(2);
      const b = await record(bus);
      await waitFor(() => b.got.length === 2, 'the late notifications at another subscriber', 10_000);
      expect(b.got.map((r) => r.n.command_id).sort()).toEqual(late.map((n) => n.command_id).sort());
      expect(a.got).toHaveLength(2);
      await bus.close();
    });

    it('stop() gives back unsettled deliveries when the grace period runs out', async () => {
      const bus = await open({ ackWaitMs: 30_000 }); // redelivery must come from the release
      const hang = deferred();
      const a = await record(bus, { maxInFlight: 1 }, async () => hang.promise);
      await bus.publish(note());
      await waitFor(() => a.sub.inFlight === 1, 'the hanging handler');
      await expect(a.sub.stop({ graceMs: 100 })).resolves.toEqual({ drained: false, released: 1 });
      const b = await record(bus);
      await waitFor(() => b.got.length === 1, 'the released notification elsewhere', 10_000);
      expect(b.got[0]!.n).toEqual(a.got[0]!.n);
      expect(b.got[0]!.d.deliveryCount).toBe(2);
      hang.resolve();
      await bus.close();
    });

    it('rejects a notification with a non-integer id', async () => {
      const bus = await open();
      await expect(bus.publish(note({ execution_id: '12ab' }))).rejects.toMatchObject({ code: 'BUS_ERROR' });
      await expect(bus.publish(note({ event_id: '1.5' }))).rejects.toMatchObject({ code: 'BUS_ERROR' });
      await bus.close();
    });

    it('close() waits for handlers, releases everything, and refuses further use', async () => {
      const bus = await open();
      const gate = deferred();
      let finished = false;
      const { sub } = await record(bus, {}, async () => {
        await gate.promise;
        finished = true;
      });
      await bus.publish(note());
      await waitFor(() => sub.inFlight === 1, 'a handler in flight');
      const closing = bus.close({ graceMs: 10_000 });
      gate.resolve();
      await closing;
      expect(finished).toBe(true);
      expect(await h.released(bus)).toBe(true);
      await expect(bus.publish(note())).rejects.toMatchObject({ code: 'BUS_ERROR' });
      await expect(bus.subscribe({}, () => undefined, { maxInFlight: 1 })).rejects.toMatchObject({
        code: 'BUS_ERROR',
      });
      await bus.close(); // idempotent
    });
  });
}
