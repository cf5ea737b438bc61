-- The result store (contract 1.12, PUT /api/result/{execution_id}): payloads a step stores by
-- reference (the `artifact` tool; results over the event size limit), read back by any worker
-- through `noetl://execution/<eid>/result/<name>/<id>`. `data` is the JSON text as sent, so its
-- bytes and sha256 are those of the stored value.
CREATE TABLE {{schema}}.result_store (
  result_id    bigint PRIMARY KEY,
  execution_id bigint NOT NULL,
  name         text NOT NULL,
  scope        text NOT NULL DEFAULT 'execution',
  source_step  text,
  data         text NOT NULL,
  bytes        bigint NOT NULL,
  sha256       text NOT NULL,
  media_type   text NOT NULL DEFAULT 'application/json',
  created_at   timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz
);
CREATE INDEX result_store_execution ON {{schema}}.result_store (execution_id, name);
