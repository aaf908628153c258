-- The by-target table without monthly partitions: audit_events_by_target becomes audit_target_keys, same
-- columns and sorting key, one partition, compact parts of 1024 rows. With monthly partitions a target's keys
-- were looked up in every month's parts; measured on the 10M-event bench data (clickhouse/README.md, Benchmark),
-- key lookup 5.5 -> 3.4 ms and a typical target page 16.0 -> 14.2 ms, for the same bytes on disk. The cost:
-- retention deletes from this table by rewriting its parts (it is ~12 bytes per event) instead of dropping
-- months, so such TTL merges run at most once a day (merge_with_ttl_timeout): expired keys, which name no event
-- any more once audit_events dropped it, can stay up to a day longer.
--
-- Every statement can run again after an interruption: the copy below may then add keys twice, which collapse
-- (ReplacingMergeTree; reads group keys anyway). The new view exists before the old one is dropped and before
-- the copy reads audit_events, so no inserted event misses both.
CREATE TABLE IF NOT EXISTS {{db}}.audit_target_keys {{on_cluster}}
(
    tenant LowCardinality(String),
    target_type LowCardinality(String),
    target_id String CODEC(ZSTD(3)),
    occurred_at DateTime64(3, 'UTC') CODEC(Delta, ZSTD(3)),
    actor_id String CODEC(ZSTD(3))
)
ENGINE = {{ReplacingMergeTree}}
ORDER BY (tenant, target_type, target_id, occurred_at, actor_id)
SETTINGS index_granularity = 1024, min_bytes_for_wide_part = 1000000000000, min_rows_for_wide_part = 1000000000000,
    merge_selector_base = 10, merge_with_ttl_timeout = 86400;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{db}}.audit_target_keys_mv {{on_cluster}} TO {{db}}.audit_target_keys AS
SELECT tenant, target.type AS target_type, target.id AS target_id, occurred_at, actor_id
FROM {{db}}.audit_events
ARRAY JOIN targets AS target;

DROP VIEW IF EXISTS {{db}}.audit_events_by_target_mv {{on_cluster}} SYNC;

-- Rebuilt from audit_events rather than copied from the old table: a re-run still finds its source, and keys
-- left behind by events re-sent with other targets are not carried over. On a cluster this runs on the replica
-- migrate talks to; replication carries the rows to the others.
INSERT INTO {{db}}.audit_target_keys (tenant, target_type, target_id, occurred_at, actor_id)
SELECT tenant, target.type, target.id, occurred_at, actor_id
FROM {{db}}.audit_events
ARRAY JOIN targets AS target;

DROP TABLE IF EXISTS {{db}}.audit_events_by_target {{on_cluster}} SYNC;
