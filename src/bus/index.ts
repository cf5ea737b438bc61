// The bus part's only door (STYLE.md 1). Importing it loads no NATS module: NatsBus.connect()
// imports the client on first use (STYLE.md 5).
export type {
  BusCapabilities,
  CommandBus,
  CommandHandler,
  CommandNotification,
  Delivery,
  PublishOptions,
  StopOptions,
  StopResult,
  SubscribeOptions,
  Subscription,
  SubscriptionFilter,
} from './ports.js';
export { decodeNotification, encodeNotification } from './notification.js';
export {
  DEFAULT_POOL,
  DEFAULT_SUBJECT_PREFIX,
  checkPool,
  filterSubject,
  poolOfSubject,
  resolvePool,
  subjectFor,
} from './subject.js';
export type { PoolSource } from './subject.js';
export { MemoryBus } from './memory/memory-bus.js';
export type { MemoryBusOptions } from './memory/memory-bus.js';
export { NatsBus } from './nats/nats-bus.js';
export { NATS_DEFAULTS, natsBusOptionsFromEnv } from './nats/nats-options.js';
export type { NatsBusOptions } from './nats/nats-options.js';
