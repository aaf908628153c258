-- The by-target table without monthly partitions: audit_events_by_target becomes audit_target_keys, same
-- columns and sorting key, one partition, compact parts of 1024 rows. With monthly partitions a target's keys
-- were looked up in every month's parts; measured on the 10M-event bench data (clickhouse/README.md, Benchmark),
-- key lookup 5.5 -> 3.4 ms and a typical target page 16.0 -> 14.2 ms, for the same bytes on disk. The cost:
-- retention deletes from this table by rewriting its parts (it is ~12 bytes per event) instead of dropping
-- months, so such TTL merges are spaced by at least a day (merge_with_ttl_timeout): an expired key, which names
-- no event once audit_events dropped it, stays a little longer than the event.
--
-- Every statement can run again after an interruption: the copy below may then add keys twice, which collapse
-- (ReplacingMergeTree; reads group keys anyway). No inserted event misses both views: an insert picks its
-- views when it starts, so one started after the new view exists feeds it, and DROP VIEW ... SYNC waits for
-- the inserts still feeding the old view, whose audit_events rows the copy then reads.
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

-- On a cluster, this replica first fetches the audit_events parts that other replicas wrote before the old
-- view went (empty without a cluster).
{{sync_replica_audit_events}};

-- Rebuilt from audit_events rather than copied from the old table: a re-run still finds its source, and keys
-- left behind by events re-sent with other targets (once merged away) are not carried over. On a cluster this
-- runs on the replica migrate talks to, and replication carries the rows to the others: one shard (cluster
-- mode creates no Distributed tables).
INSERT INTO {{db}}.audit_target_keys (tenant, target_type, target_id, occurred_at, actor_id)
SELECT tenant, target.type, target.id, occurred_at, actor_id
FROM {{db}}.audit_events
ARRAY JOIN targets AS target;

DROP TABLE IF EXISTS {{db}}.audit_events_by_target {{on_cluster}} SYNC;
