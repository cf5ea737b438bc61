-- Loaded by postgres_script.yaml through `script: scripts/count.sql`.
SELECT 40 + 2 AS answer;
