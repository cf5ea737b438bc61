-- Schedules (docs/triggers.md): missed-fire and overlap policies on the schedule row, and one
-- row per fire. A fire's execution is started with the idempotency key
-- `schedule:<schedule_id>:<fire_time>`, so the execution table's dedup (taken under a lock in the
-- transaction that records the execution) makes each tick start one execution across replicas
-- and restarts; schedule_fire is its history.
ALTER TABLE {{schema}}.schedule
    ADD COLUMN catchup       text NOT NULL DEFAULT 'one' CHECK (catchup IN ('skip', 'one', 'all')),
    ADD COLUMN catchup_limit integer NOT NULL DEFAULT 10 CHECK (catchup_limit >= 1),
    ADD COLUMN overlap       text NOT NULL DEFAULT 'allow'
        CHECK (overlap IN ('allow', 'skip', 'cancel_previous')),
    ADD COLUMN description   text;

CREATE TABLE {{schema}}.schedule_fire (
    schedule_id  bigint NOT NULL REFERENCES {{schema}}.schedule (schedule_id) ON DELETE CASCADE,
    fire_time    timestamptz NOT NULL,
    execution_id bigint,
    outcome      text NOT NULL CHECK (outcome IN ('started', 'duplicate', 'skipped', 'failed')),
    error        text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (schedule_id, fire_time)
);
CREATE INDEX schedule_fire_execution ON {{schema}}.schedule_fire (execution_id)
    WHERE execution_id IS NOT NULL;
