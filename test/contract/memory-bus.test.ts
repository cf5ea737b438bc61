import { MemoryBus } from '../../src/bus/index.js';
import type { CommandBus } from '../../src/bus/index.js';
import { busContract } from './bus.contract.js';

busContract('memory', async () => {
  const buses = new Map<CommandBus, MemoryBus>();
  const shortAckWaitMs = 200;
  return Promise.resolve({
    shortAckWaitMs,
    open: async (options = {}) => {
      const bus = new MemoryBus({ ackWaitMs: options.ackWaitMs ?? shortAckWaitMs });
      buses.set(bus, bus);
      return Promise.resolve(bus);
    },
    released: async (bus) => {
      const m = buses.get(bus);
      return Promise.resolve(m !== undefined && m.closed && m.activeTimers === 0);
    },
    idle: async (bus) => Promise.resolve(buses.get(bus)?.unsettled === 0),
    dispose: async () => Promise.resolve(),
  });
});
