import { canonicalEventType } from '../engine/index.js';
import type {
  AppendBatch,
  AppendResult,
  ClaimResult,
  CommandStore,
  EventStore,
  Store,
  StoreTx,
} from '../store/index.js';
import type { ServerMetrics } from './metrics.js';

/** Entries each look-aside cache keeps (commands in flight, executions running); oldest dropped. */
const CACHE_LIMIT = 50_000;

const TERMINAL_STATUS: Readonly<Record<string, string>> = {
  'playbook.completed': 'completed',
  'playbook.failed': 'failed',
  playbook_cancelled: 'cancelled',
};

class BoundedMap<V> extends Map<string, V> {
  override set(key: string, value: V): this {
    if (!this.has(key) && this.size >= CACHE_LIMIT) {
      const oldest = this.keys().next();
      if (!oldest.done) this.delete(oldest.value);
    }
    return super.set(key, value);
  }
}

interface CommandSeen {
  kind?: string;
  /** Date.now() when the claim returned on this server. */
  claimedAt?: number;
}

type Appended = readonly [AppendBatch, AppendResult];

/**
 * The store with the orchestration metrics taken where they happen, whatever part of the server
 * writes: every `events.append` is timed (`noetl_event_append_duration_seconds`), and once its
 * transaction committed (a rolled-back or retried body counts nothing) the events it inserted give
 * `noetl_executions_total{path,status}` (playbook_started, playbook.completed/failed/cancelled) and
 * `noetl_step_duration_seconds{kind}` (claim to the worker's command.completed / command.failed).
 * Kinds and claim times come from what this server issued and claimed; a command issued or
 * claimed by another replica (or before a restart) is read back from its row. `noetl_commands`
 * counts the open command rows at each scrape.
 */
export function instrumentStore(store: Store, metrics: ServerMetrics): Store {
  const commandsSeen = new BoundedMap<CommandSeen>();
  const paths = new BoundedMap<string>();

  metrics.countCommandsWith(async () => {
    const { schema } = store.stats();
    const { rows } = await store.query(
      `SELECT lower(status) AS status, count(*)::int AS n FROM "${schema.replace(/"/g, '""')}".command ` +
        `WHERE status IN ('PENDING', 'CLAIMED', 'RUNNING') GROUP BY status`,
    );
    const counts: Record<string, number> = {};
    for (const row of rows) counts[String(row['status'])] = Number(row['n']);
    return counts;
  });

  const observeStep = (key: string, done: number): void => {
    const seen = commandsSeen.get(key);
    commandsSeen.delete(key);
    if (seen?.kind !== undefined && seen.claimedAt !== undefined) {
      metrics.stepDuration.observe({ kind: seen.kind }, Math.max(0, done - seen.claimedAt) / 1000);
      return;
    }
    // Issued or claimed elsewhere: the row has both times (from the database's clock).
    void store.commands
      .getByKey(key)
      .then((row) => {
        if (!row?.claimedAt) return;
        const end = row.completedAt ? Date.parse(row.completedAt) : done;
        metrics.stepDuration.observe(
          { kind: row.toolKind },
          Math.max(0, end - Date.parse(row.claimedAt)) / 1000,
        );
      })
      .catch(() => undefined);
  };

  const countExecution = (executionId: string, status: string, known?: string): void => {
    const path = known ?? paths.get(executionId);
    if (status !== 'started') paths.delete(executionId);
    if (path !== undefined) {
      metrics.executions.inc({ path, status });
      return;
    }
    void store.executions
      .overview(executionId)
      .then((row) => metrics.executions.inc({ path: row?.path ?? '', status }))
      .catch(() => undefined);
  };

  const committed = (done: readonly Appended[]): void => {
    const now = Date.now();
    for (const [batch, result] of done) {
      for (const command of batch.commands ?? []) {
        const seen = commandsSeen.get(command.commandKey);
        commandsSeen.set(command.commandKey, { ...seen, kind: command.toolKind });
      }
      batch.events.forEach((event, i) => {
        if (result.events[i]?.inserted !== true) return;
        const type = canonicalEventType(event.eventType);
        if (type === 'playbook_started') {
          const init =
            batch.execution?.executionId === event.executionId
              ? batch.execution
              : batch.executions?.find((x) => x.executionId === event.executionId);
          const path = init?.path;
          if (path !== undefined) paths.set(event.executionId, path);
          countExecution(event.executionId, 'started', path);
        } else if (type !== undefined && TERMINAL_STATUS[type] !== undefined) {
          countExecution(event.executionId, TERMINAL_STATUS[type]);
        } else if (type === 'command.completed' || type === 'command.failed') {
          const key = event.commandKey ?? event.meta?.['command_id'];
          if (typeof key === 'string') observeStep(key, now);
        }
      });
    }
  };

  const timedEvents = (events: EventStore, done: Appended[]): EventStore =>
    new Proxy(events, {
      get(target, prop) {
        if (prop !== 'append') return bound(target, prop);
        return async (batch: AppendBatch): Promise<AppendResult> => {
          const end = metrics.eventAppend.startTimer();
          const result = await target.append(batch);
          end();
          done.push([batch, result]);
          // Commands written already claimed (the take of a new command) are timed as claims.
          for (const claim of result.claimed ?? []) claimed(claim);
          return result;
        };
      },
    });

  const inTx = (tx: StoreTx, done: Appended[]): StoreTx =>
    new Proxy(tx, {
      get(target, prop) {
        if (prop === 'events') return timedEvents(target.events, done);
        // A claim inside a transaction (a command handed over with an ingest) is timed too, so
        // its completion needs no read of the row.
        if (prop === 'commands') return claiming(target.commands);
        return bound(target, prop);
      },
    });

  /** Runs a transaction body with a fresh list per run (a retried body starts over). */
  const wrapTx = async <T>(
    kind: 'tx' | 'lock' | 'execution',
    begin: (body: (tx: StoreTx, ...rest: never[]) => Promise<T>) => Promise<T>,
    fn: (tx: StoreTx, ...rest: never[]) => Promise<T>,
  ): Promise<T> => {
    let done: Appended[] = [];
    let runs = 0;
    try {
      const value = await begin((tx, ...rest) => {
        done = [];
        runs++;
        return fn(inTx(tx, done), ...rest);
      });
      committed(done);
      return value;
    } finally {
      if (runs > 1) metrics.transactionReruns.inc({ kind }, runs - 1);
    }
  };

  const claimed = (result: ClaimResult): void => {
    if (result.alreadyClaimed) return;
    commandsSeen.set(result.command.commandKey, { kind: result.command.toolKind, claimedAt: Date.now() });
  };

  const claiming = (commands: CommandStore): CommandStore =>
    new Proxy(commands, {
      get(target, prop) {
        if (prop !== 'claim') return bound(target, prop);
        return async (commandId: string, workerId: string): Promise<ClaimResult> => {
          const result = await target.claim(commandId, workerId);
          claimed(result);
          return result;
        };
      },
    });

  return new Proxy(store, {
    get(target, prop) {
      switch (prop) {
        case 'tx':
          return <T>(fn: (tx: StoreTx) => Promise<T>) => wrapTx('tx', (body) => target.tx(body), fn);
        case 'withLock':
          return <T>(name: string | readonly string[], fn: (tx: StoreTx) => Promise<T>) =>
            wrapTx('lock', (body) => target.withLock(name, body), fn);
        case 'withExecutionLock':
          return <T>(
            executionId: string,
            fn: Parameters<Store['withExecutionLock']>[1],
            expectedCount?: () => number | undefined,
          ) =>
            wrapTx(
              'execution',
              (body) => target.withExecutionLock(executionId, body as never, expectedCount),
              fn as (tx: StoreTx, ...rest: never[]) => Promise<T>,
            );
        case 'events': {
          const done: Appended[] = [];
          return new Proxy(target.events, {
            get(events, name) {
              if (name !== 'append') return bound(events, name);
              return async (batch: AppendBatch) => {
                const result = await timedEvents(events, done).append(batch);
                committed(done.splice(0));
                return result;
              };
            },
          });
        }
        case 'commands':
          return claiming(target.commands);
        default:
          return bound(target, prop);
      }
    },
  });
}

function bound(target: object, prop: string | symbol): unknown {
  const value: unknown = Reflect.get(target, prop, target);
  return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
}
