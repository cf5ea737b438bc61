-- The web UI's reads (issue 13).
-- Event streams and dashboard throughput read the log of every execution by event id (snowflake
-- ids grow with time); execution_id and event_type ride in the index so the poll that looks for
-- new events is an index-only scan.
CREATE INDEX event_feed ON {{schema}}.event (event_id) INCLUDE (execution_id, event_type);
