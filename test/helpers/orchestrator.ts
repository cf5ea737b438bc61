import type { CommandBus } from '../../src/bus/index.js';
import { Orchestrator } from '../../src/server/orchestrator/orchestrator.js';
import { silentLogger, SnowflakeIdGenerator, systemClock, type IdGenerator } from '../../src/shared/index.js';
import type { Store } from '../../src/store/index.js';
import { templates } from '../../src/template/index.js';

/** An orchestrator on `store` and `bus` with the system clock, quiet logs and no real server URL. */
export function testOrchestrator(
  store: Store,
  bus: CommandBus,
  ids: IdGenerator = new SnowflakeIdGenerator(systemClock),
): Orchestrator {
  return new Orchestrator({
    store,
    bus,
    ids,
    clock: systemClock,
    templates: templates(),
    logger: silentLogger,
    serverUrl: 'http://127.0.0.1:0',
  });
}
