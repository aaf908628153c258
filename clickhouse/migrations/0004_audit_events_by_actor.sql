-- One narrow row per event, sorted for actor timelines; full rows come from audit_events by key.
CREATE TABLE IF NOT EXISTS {{db}}.audit_events_by_actor {{on_cluster}}
(
    tenant LowCardinality(String),
    actor_id String,
    actor_type LowCardinality(String),
    occurred_at DateTime64(3, 'UTC') CODEC(DoubleDelta, ZSTD(1)),
    event_id UUID
)
ENGINE = {{ReplacingMergeTree}}
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (tenant, actor_id, occurred_at, event_id);

CREATE MATERIALIZED VIEW IF NOT EXISTS {{db}}.audit_events_by_actor_mv {{on_cluster}} TO {{db}}.audit_events_by_actor AS
SELECT tenant, actor_id, actor_type, occurred_at, event_id
FROM {{db}}.audit_events;
