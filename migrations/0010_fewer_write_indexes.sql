-- Indexes no query needs, dropped: every chain step wrote entries into them (issue 17,
-- docs/benchmarks.md). `event_command_key`: events are found by command only through
-- `findClaim`, which also names the execution (the `event_exec_type` index), and `findDuplicate`,
-- which names the execution and, for a second completion, matches `event_command_terminal`.
-- `command_worker`: `listClaimedBy` reads the CLAIMED/RUNNING commands, the few in flight, by
-- `command_active` (the same predicate) and picks its workers' among them.
DROP INDEX IF EXISTS {{schema}}.event_command_key;
DROP INDEX IF EXISTS {{schema}}.command_worker;
