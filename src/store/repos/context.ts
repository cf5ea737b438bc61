import type { IdGenerator } from '../../shared/index.js';
import type { Db } from '../db.js';
import { ADMIN_SQL } from '../queries/admin.js';
import { bindQueries } from '../queries/bind.js';
import { CATALOG_SQL } from '../queries/catalog.js';
import { COMMAND_SQL } from '../queries/commands.js';
import { CREDENTIAL_SQL } from '../queries/credentials.js';
import { EVENT_SQL } from '../queries/events.js';
import { EXECUTION_SQL } from '../queries/executions.js';
import { KEYCHAIN_SQL } from '../queries/keychain.js';
import { RESULT_SQL } from '../queries/results.js';
import { RUNTIME_SQL } from '../queries/runtime.js';
import { SCHEDULE_SQL } from '../queries/schedules.js';
import { VAR_SQL } from '../queries/vars.js';

/** Every query with the schema bound. */
export interface BoundSql {
  readonly admin: typeof ADMIN_SQL;
  readonly catalog: typeof CATALOG_SQL;
  readonly commands: typeof COMMAND_SQL;
  readonly credentials: typeof CREDENTIAL_SQL;
  readonly events: typeof EVENT_SQL;
  readonly executions: typeof EXECUTION_SQL;
  readonly keychain: typeof KEYCHAIN_SQL;
  readonly results: typeof RESULT_SQL;
  readonly runtime: typeof RUNTIME_SQL;
  readonly schedules: typeof SCHEDULE_SQL;
  readonly vars: typeof VAR_SQL;
}

export function bindSql(schema: string): BoundSql {
  return {
    admin: bindQueries(ADMIN_SQL, schema),
    catalog: bindQueries(CATALOG_SQL, schema),
    commands: bindQueries(COMMAND_SQL, schema),
    credentials: bindQueries(CREDENTIAL_SQL, schema),
    events: bindQueries(EVENT_SQL, schema),
    executions: bindQueries(EXECUTION_SQL, schema),
    keychain: bindQueries(KEYCHAIN_SQL, schema),
    results: bindQueries(RESULT_SQL, schema),
    runtime: bindQueries(RUNTIME_SQL, schema),
    schedules: bindQueries(SCHEDULE_SQL, schema),
    vars: bindQueries(VAR_SQL, schema),
  };
}

/** What every repository works with: a connection (or transaction), the queries, an id source. */
export interface RepoContext {
  readonly db: Db;
  readonly sql: BoundSql;
  readonly ids: IdGenerator;
  /** Prefix of lock names, so stores on different schemas do not share locks. */
  readonly lockPrefix: string;
}

export const DEFAULT_LIST_LIMIT = 1000;
