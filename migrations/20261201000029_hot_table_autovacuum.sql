-- Autovacuum and analyze thresholds for the tables that churn. PostgreSQL's defaults (vacuum at
-- 20% dead rows, analyze at 10% changed, insert-driven vacuum at 20% new rows) scale with the
-- table: on a month of traffic they let millions of dead rows pile up and statistics age for
-- days, and the planner then misjudges the claim and click-history statements. These trigger on
-- a small share instead. SET (...) on a table takes a SHARE UPDATE EXCLUSIVE lock: reads and
-- writes go on meanwhile. Valid on PostgreSQL 13 and later (15 here, 18 in the compose file).

-- The outbox, above all: each event is inserted, leased, re-leased and marked sent or failed, and
-- its payload is erased later, so every row leaves several dead versions behind, most of them
-- in the partial index the worker claims from (events_due_idx).
ALTER TABLE events SET (
    autovacuum_vacuum_scale_factor = 0.01,
    autovacuum_vacuum_threshold = 1000,
    autovacuum_analyze_scale_factor = 0.01,
    autovacuum_analyze_threshold = 1000,
    autovacuum_vacuum_insert_scale_factor = 0.05
);

-- One row per call to a platform, never updated: insert-driven vacuum keeps its visibility map
-- current (index-only scans for the dashboard's counts) and analyze follows its growth.
ALTER TABLE delivery_attempts SET (
    autovacuum_analyze_scale_factor = 0.02,
    autovacuum_vacuum_insert_scale_factor = 0.05
);

-- The largest table: inserted by every click, updated by the landing page's later fields and
-- consent, deleted by retention in batches; its click-history statement needs fresh statistics.
ALTER TABLE clicks SET (
    autovacuum_vacuum_scale_factor = 0.02,
    autovacuum_vacuum_threshold = 1000,
    autovacuum_analyze_scale_factor = 0.01,
    autovacuum_analyze_threshold = 1000,
    autovacuum_vacuum_insert_scale_factor = 0.05
);

-- Inserted by each postback and updated when it is matched to its click, and when retention
-- erases its personal fields: dead versions and new state counts on the dashboard's filters.
ALTER TABLE conversions SET (
    autovacuum_vacuum_scale_factor = 0.02,
    autovacuum_vacuum_threshold = 1000,
    autovacuum_analyze_scale_factor = 0.01,
    autovacuum_analyze_threshold = 1000,
    autovacuum_vacuum_insert_scale_factor = 0.05
);

-- Refused postbacks: inserted by every refusal (a flood when a tracker is misconfigured) and
-- deleted by retention in batches, so it turns over like a queue.
ALTER TABLE refused_postbacks SET (
    autovacuum_vacuum_scale_factor = 0.05,
    autovacuum_vacuum_threshold = 500,
    autovacuum_analyze_scale_factor = 0.05
);
