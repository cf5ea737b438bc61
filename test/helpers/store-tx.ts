import type { StoreTx } from '../../src/store/index.js';

/**
 * `tx` whose appends never carry `last`: the store then sends COMMIT after the body returns,
 * not with its last append, so a test can hold the body's work uncommitted, or throw after it
 * and have it rolled back (as a connection lost before COMMIT was sent would).
 */
export function commitAfterBody(tx: StoreTx): StoreTx {
  const events = new Proxy(tx.events, {
    get(target, prop, receiver) {
      if (prop !== 'append') return Reflect.get(target, prop, receiver) as unknown;
      return (batch: Parameters<typeof target.append>[0]) => target.append({ ...batch, last: false });
    },
  });
  return new Proxy(tx, {
    get: (target, prop, receiver) =>
      prop === 'events' ? events : (Reflect.get(target, prop, receiver) as unknown),
  });
}
