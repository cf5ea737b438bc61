// The bus part's only door (STYLE.md 1). Importing it loads no NATS module: NatsBus.connect()
// imports the client on first use (STYLE.md 5).
export type {
  CommandBus,
  CommandNotification,
  Delivery,
  PublishReceipt,
  StopOptions,
  Subscription,
} from './ports.js';
export { resolvePool } from './subject.js';
export { MemoryBus } from './memory/memory-bus.js';
export { NatsBus } from './nats/nats-bus.js';
export { NATS_DEFAULTS } from './nats/nats-options.js';
export type { NatsBusOptions } from './nats/nats-options.js';
