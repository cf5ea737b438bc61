-- NoETL control-plane schema, first migration.
-- `{{schema}}` is replaced by the migration runner with the configured schema name
-- (`noetl` in production, a per-test schema in tests). Column names follow NoETL's
-- schema_ddl.sql (contract section 5); no table partitioning (see src/store/ARCHITECTURE.md).

CREATE TABLE {{schema}}.resource (
    name varchar PRIMARY KEY,
    meta jsonb
);
INSERT INTO {{schema}}.resource (name) VALUES
    ('playbook'), ('credential'), ('mcp'), ('agent'), ('memory')
ON CONFLICT DO NOTHING;

CREATE TABLE {{schema}}.catalog (
    catalog_id    bigint PRIMARY KEY,
    path          text NOT NULL,
    version       integer NOT NULL,
    kind          varchar NOT NULL REFERENCES {{schema}}.resource (name),
    content       text,
    layout        jsonb,
    payload       jsonb,
    meta          jsonb,
    credential_id bigint,
    archived      boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (path, version)
);
CREATE INDEX catalog_created ON {{schema}}.catalog (created_at DESC, catalog_id DESC);

-- The event log: the source of truth. Everything else is a projection or a queue.
CREATE TABLE {{schema}}.event (
    execution_id        bigint NOT NULL,
    event_id            bigint NOT NULL,
    catalog_id          bigint,
    parent_event_id     bigint,
    parent_execution_id bigint,
    created_at          timestamptz NOT NULL DEFAULT now(),
    event_type          varchar NOT NULL,
    node_id             varchar,
    node_name           varchar,
    node_type           varchar,
    status              varchar,
    duration            double precision,
    context             jsonb,
    result              jsonb,
    meta                jsonb,
    error               text,
    current_index       integer,
    current_item        text,
    worker_id           varchar,
    distributed_state   varchar,
    context_key         varchar,
    context_value       text,
    trace_component     jsonb,
    stack_trace         text,
    -- string command id `<execution_id>:<step>:<event_id>[:i<n>]` of the command this event is about
    command_key         text,
    idempotency_key     text,
    CONSTRAINT chk_event_result_shape CHECK (
        result IS NULL
        OR (
            jsonb_typeof(result) = 'object'
            AND result ? 'status'
            AND jsonb_typeof(result -> 'status') = 'string'
            AND (result - 'status' - 'reference' - 'context') = '{}'::jsonb
            AND (NOT (result ? 'reference') OR jsonb_typeof(result -> 'reference') = 'object')
            AND (NOT (result ? 'context') OR jsonb_typeof(result -> 'context') = 'object')
        )
    ),
    PRIMARY KEY (execution_id, event_id)
);
CREATE INDEX event_exec_type ON {{schema}}.event (execution_id, event_type, event_id);
CREATE INDEX event_parent_execution ON {{schema}}.event (parent_execution_id)
    WHERE parent_execution_id IS NOT NULL;
CREATE INDEX event_command_key ON {{schema}}.event (command_key) WHERE command_key IS NOT NULL;
-- A retried event without a client event_id is still written once.
CREATE UNIQUE INDEX event_idempotency_key ON {{schema}}.event (execution_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
-- A command finishes at most once: a late or duplicated completion is a no-op.
CREATE UNIQUE INDEX event_command_terminal ON {{schema}}.event (command_key)
    WHERE command_key IS NOT NULL AND event_type IN ('command.completed', 'command.failed');
CREATE VIEW {{schema}}.event_log AS SELECT * FROM {{schema}}.event;

-- The command queue: one row per command.issued event (command_id = that event_id).
-- A row with published_at IS NULL is the transactional outbox entry of its notification.
CREATE TABLE {{schema}}.command (
    command_id          bigint PRIMARY KEY,
    command_key         text NOT NULL UNIQUE,
    event_id            bigint NOT NULL,
    execution_id        bigint NOT NULL,
    catalog_id          bigint,
    parent_execution_id bigint,
    parent_command_id   bigint,
    step_name           text NOT NULL,
    tool_kind           text NOT NULL,
    execution_pool      text,
    status              text NOT NULL DEFAULT 'PENDING'
        CHECK (status IN ('PENDING', 'CLAIMED', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED')),
    worker_id           text,
    claimed_at          timestamptz,
    started_at          timestamptz,
    completed_at        timestamptz,
    attempt             integer NOT NULL DEFAULT 1,
    context             jsonb,
    meta                jsonb,
    result              jsonb,
    error               text,
    loop_event_id       bigint,
    iter_index          integer,
    latest_event_id     bigint,
    published_at        timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX command_execution ON {{schema}}.command (execution_id, status);
CREATE INDEX command_unpublished ON {{schema}}.command (created_at)
    WHERE published_at IS NULL AND status = 'PENDING';
CREATE INDEX command_unclaimed ON {{schema}}.command (published_at)
    WHERE status = 'PENDING';
CREATE INDEX command_active ON {{schema}}.command (updated_at)
    WHERE status IN ('CLAIMED', 'RUNNING');
CREATE INDEX command_worker ON {{schema}}.command (worker_id)
    WHERE status IN ('CLAIMED', 'RUNNING');

-- Projection of each execution's log (maintained in the same transaction as the events).
CREATE TABLE {{schema}}.execution (
    execution_id        bigint PRIMARY KEY,
    catalog_id          bigint,
    parent_execution_id bigint,
    path                text,
    status              text NOT NULL DEFAULT 'RUNNING'
        CHECK (status IN ('RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED')),
    last_event_type     text,
    last_node_name      text,
    last_event_id       bigint,
    event_count         integer NOT NULL DEFAULT 0,
    start_time          timestamptz NOT NULL DEFAULT now(),
    end_time            timestamptz,
    error               text,
    workload            jsonb,
    state               jsonb,
    idempotency_key     text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX execution_start ON {{schema}}.execution (start_time DESC, execution_id DESC);
CREATE INDEX execution_status ON {{schema}}.execution (status, start_time);
CREATE INDEX execution_catalog ON {{schema}}.execution (catalog_id);
CREATE INDEX execution_path ON {{schema}}.execution (path);
CREATE INDEX execution_parent ON {{schema}}.execution (parent_execution_id)
    WHERE parent_execution_id IS NOT NULL;
CREATE INDEX execution_idempotency ON {{schema}}.execution (idempotency_key, start_time DESC)
    WHERE idempotency_key IS NOT NULL;

CREATE TABLE {{schema}}.credential (
    id             bigint PRIMARY KEY,
    name           text NOT NULL UNIQUE,
    type           text NOT NULL,
    data_encrypted text NOT NULL,
    schema         jsonb,
    meta           jsonb,
    tags           text[],
    description    text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX credential_type ON {{schema}}.credential (type);

CREATE TABLE {{schema}}.keychain (
    cache_key           text PRIMARY KEY,
    keychain_name       text NOT NULL,
    catalog_id          bigint NOT NULL,
    credential_type     text NOT NULL,
    cache_type          text NOT NULL CHECK (cache_type IN ('secret', 'token')),
    scope_type          text NOT NULL CHECK (scope_type IN ('local', 'global', 'shared')),
    execution_id        bigint,
    parent_execution_id bigint,
    data_encrypted      text NOT NULL,
    schema              jsonb,
    expires_at          timestamptz NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    accessed_at         timestamptz NOT NULL DEFAULT now(),
    access_count        integer NOT NULL DEFAULT 0,
    auto_renew          boolean NOT NULL DEFAULT false,
    renew_config        jsonb
);
CREATE INDEX keychain_catalog ON {{schema}}.keychain (catalog_id, keychain_name);
CREATE INDEX keychain_execution ON {{schema}}.keychain (execution_id) WHERE execution_id IS NOT NULL;
CREATE INDEX keychain_expires ON {{schema}}.keychain (expires_at);

-- Execution variables (/api/vars).
CREATE TABLE {{schema}}.transient (
    execution_id bigint NOT NULL,
    var_name     text NOT NULL,
    var_type     text NOT NULL
        CHECK (var_type IN ('user_defined', 'step_result', 'computed', 'iterator_state')),
    var_value    jsonb NOT NULL,
    source_step  text,
    scope        text NOT NULL DEFAULT 'execution'
        CHECK (scope IN ('step', 'execution', 'workflow', 'permanent')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    accessed_at  timestamptz NOT NULL DEFAULT now(),
    access_count integer NOT NULL DEFAULT 0,
    expires_at   timestamptz,
    PRIMARY KEY (execution_id, var_name)
);

-- Registry of worker pools, servers and brokers.
CREATE TABLE {{schema}}.runtime (
    runtime_id   bigint PRIMARY KEY,
    name         text NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('worker_pool', 'server_api', 'broker')),
    uri          text,
    status       text NOT NULL,
    labels       jsonb,
    capabilities jsonb,
    capacity     integer,
    runtime      jsonb,
    heartbeat    timestamptz NOT NULL DEFAULT now(),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (kind, name)
);
CREATE INDEX runtime_heartbeat ON {{schema}}.runtime (heartbeat);

CREATE TABLE {{schema}}.schedule (
    schedule_id      bigint PRIMARY KEY,
    playbook_path    text NOT NULL,
    playbook_version text,
    cron             text,
    interval_seconds integer,
    enabled          boolean NOT NULL DEFAULT true,
    timezone         text DEFAULT 'UTC',
    next_run_at      timestamptz,
    last_run_at      timestamptz,
    last_status      text,
    input_payload    jsonb,
    meta             jsonb,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX schedule_next_run ON {{schema}}.schedule (next_run_at) WHERE enabled;

-- NoETL's generic transactional outbox (/api/internal/outbox/*). Command notifications do not
-- need it: the command row itself is their outbox entry (command.published_at).
CREATE TABLE {{schema}}.outbox (
    outbox_id    bigint PRIMARY KEY,
    execution_id bigint,
    topic        text NOT NULL,
    payload      jsonb NOT NULL,
    status       text NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'claimed', 'published', 'failed')),
    attempts     integer NOT NULL DEFAULT 0,
    claimed_by   text,
    claimed_at   timestamptz,
    published_at timestamptz,
    error        text,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX outbox_pending ON {{schema}}.outbox (created_at) WHERE status = 'pending';

-- Snowflake ids made in SQL (the application makes its own in TypeScript; see src/shared/ids.ts).
-- Same layout as the Rust generator: ((ms - 2024-01-01) << 22) | (machine << 12) | seq.
CREATE SEQUENCE {{schema}}.snowflake_seq;
CREATE FUNCTION {{schema}}.snowflake_id() RETURNS bigint LANGUAGE sql VOLATILE AS $$
    SELECT (((extract(epoch FROM clock_timestamp()) * 1000)::bigint - 1704067200000) << 22)
         | (1023::bigint << 12)
         | (nextval('{{schema}}.snowflake_seq') % 4096)
$$;
