-- One narrow row per (event, target), sorted for target history; full rows come from audit_events by key.
CREATE TABLE IF NOT EXISTS {{db}}.audit_events_by_target {{on_cluster}}
(
    tenant LowCardinality(String),
    target_type LowCardinality(String),
    target_id String,
    occurred_at DateTime64(3, 'UTC') CODEC(DoubleDelta, ZSTD(1)),
    event_id UUID
)
ENGINE = {{ReplacingMergeTree}}
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (tenant, target_type, target_id, occurred_at, event_id);

CREATE MATERIALIZED VIEW IF NOT EXISTS {{db}}.audit_events_by_target_mv {{on_cluster}} TO {{db}}.audit_events_by_target AS
SELECT tenant, target.type AS target_type, target.id AS target_id, occurred_at, event_id
FROM {{db}}.audit_events
ARRAY JOIN targets AS target;
