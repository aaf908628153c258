-- The audit view of 0008 (same columns; rows written before keep their values) with `malformed` naming what is
-- wrong and only that: a missing actor type was named audit.actor.id (now audit.actor.type; audit.actor.id only
-- when the id is missing), an empty audit.action was stored unmarked (now named), and a missing audit.crud or
-- audit.outcome, optional attributes with a default (CONVENTIONS.md), was named as if malformed (now only a value
-- outside the enum is, as for audit.version, audit.count and audit.last_occurred_at). MODIFY QUERY swaps the
-- view's query in one step: no insert runs without it.
ALTER TABLE {{db}}.audit_events_mv {{on_cluster}} MODIFY QUERY
WITH
    LogAttributes[{{attr_eventId}}] AS raw_id,
    toUUIDOrNull(raw_id) AS parsed_id,
    LogAttributes[{{attr_tenant}}] AS raw_tenant,
    LogAttributes[{{attr_crud}}] AS raw_crud,
    LogAttributes[{{attr_outcome}}] AS raw_outcome,
    LogAttributes[{{attr_actorId}}] AS raw_actor_id,
    LogAttributes[{{attr_actorType}}] AS raw_actor_type,
    LogAttributes[{{attr_actorFields}}] AS raw_actor_fields,
    LogAttributes[{{attr_targets}}] AS raw_targets,
    LogAttributes[{{attr_changes}}] AS raw_changes,
    LogAttributes[{{attr_version}}] AS raw_version,
    LogAttributes[{{attr_count}}] AS raw_count,
    LogAttributes[{{attr_lastOccurredAt}}] AS raw_last,
    isValidJSON(raw_targets) AND JSONType(raw_targets) = 'Array' AS targets_ok,
    if(targets_ok, JSONExtractArrayRaw(raw_targets), []) AS raw_items,
    -- An item that is no object names no target: left out (and the row marked), so it adds no empty-key row to
    -- the by-target table.
    arrayFilter(x -> JSONType(x) = 'Object', raw_items) AS split_objects,
    -- JSONExtractArrayRaw prints each item anew, a number such as 1e+20 (the SDK's form of an integer beyond 64
    -- bits) as 100000000000000000000, which the JSON functions then refuse. Only in a row where an item failed
    -- (`if` short-circuits: other rows pay one length comparison; a regex pre-check on every row cost ~8% of the
    -- targets' share), an item that no longer parses is cut into strings, numbers and the rest, an integer literal
    -- outside Int64 and UInt64 gets `.0` (the same double; a 64-bit integer and a fraction of 19+ digits such as
    -- 0.0008977323236730797 stay as printed), and the item is checked again. One pass per item: reading items by
    -- index re-parsed the whole attribute per item (10,000 targets took 52 s).
    if(length(split_objects) = length(raw_items), split_objects, arrayFilter(x -> JSONType(x) = 'Object',
        arrayMap(x -> if(isValidJSON(x), x, arrayStringConcat(arrayMap(
            t -> if(length(t) >= 19 AND match(t, '^-?[0-9]+$') AND toInt64OrNull(t) IS NULL
                AND toUInt64OrNull(t) IS NULL, concat(t, '.0'), t),
            extractAll(x, '"(?:[^"\\\\]|\\\\.)*"|-?[0-9][0-9.eE+-]*|[^"0-9-]+')))), raw_items))) AS target_items,
    arrayMap(x -> JSONExtract(x, 'Tuple(type String, id String, name String)'), target_items) AS parsed_targets,
    raw_actor_fields = '' OR (isValidJSON(raw_actor_fields) AND JSONType(raw_actor_fields) = 'Object') AS actor_fields_ok,
    raw_changes = '' OR (isValidJSON(raw_changes) AND JSONType(raw_changes) = 'Object') AS changes_ok,
    Body = '' OR isValidJSON(Body) AS body_ok,
    toUInt32OrZero(raw_version) AS parsed_version,
    toUInt32OrZero(raw_count) AS parsed_count,
    -- RFC 3339 (zone optional, then UTC) with every field in its range: best-effort parsing alone read "1" as
    -- 2026-01-01, and it carries hour 25, minute 99 or offset +99:00 over into the next field (and reads year
    -- 0000 as the current year) instead of failing; impossible days (02-30) it refuses itself.
    if(match(raw_last, '^([0-9]{3}[1-9]|[0-9]{2}[1-9][0-9]|[0-9][1-9][0-9]{2}|[1-9][0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[Tt ]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]+)?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])?$'),
        -- upper: RFC 3339 allows a lowercase t and z, which best-effort parsing refuses.
        parseDateTime64BestEffortOrNull(upper(raw_last), 3, 'UTC'), NULL) AS parsed_last,
    toDateTime64(Timestamp, 3, 'UTC') AS ts,
    lower(hex(sipHash128(Timestamp, ServiceName, Body, mapKeys(LogAttributes), mapValues(LogAttributes)))) AS row_hash
SELECT
    raw_tenant AS tenant,
    -- A missing or invalid id gets one derived from the row (a UUIDv8: version and variant bits set), so a
    -- retried malformed row still collapses and the id still parses as a UUID.
    -- `if` short-circuits: the hash is only computed for rows that need it.
    if(parsed_id IS NOT NULL, assumeNotNull(parsed_id), toUUID(concat(
        substring(row_hash, 1, 8), '-', substring(row_hash, 9, 4), '-8', substring(row_hash, 14, 3), '-a',
        substring(row_hash, 18, 3), '-', substring(row_hash, 21, 12)))) AS event_id,
    ts AS occurred_at,
    now64(3, 'UTC') AS received_at,
    LogAttributes[{{attr_action}}] AS action,
    CAST(if(raw_crud IN {{values_crud}}, raw_crud, 'unknown') AS {{enum_crud}}) AS crud,
    CAST(if(raw_outcome IN {{values_outcome}}, raw_outcome, if(SeverityNumber >= 13, 'failure', 'success')) AS {{enum_outcome}}) AS outcome,
    LogAttributes[{{attr_outcomeReason}}] AS outcome_reason,
    raw_actor_id AS actor_id,
    raw_actor_type AS actor_type,
    LogAttributes[{{attr_actorName}}] AS actor_name,
    if(actor_fields_ok, raw_actor_fields, '') AS actor_fields,
    parsed_targets AS targets,
    arrayMap(x -> if(JSONType(x, 'fields') = 'Object', JSONExtractRaw(x, 'fields'), ''), target_items) AS target_fields,
    LogAttributes[{{attr_contextIp}}] AS ip,
    LogAttributes[{{attr_contextUserAgent}}] AS user_agent,
    LogAttributes[{{attr_contextRequestId}}] AS request_id,
    TraceId AS trace_id,
    SpanId AS span_id,
    ServiceName AS service_name,
    if(parsed_version = 0, 1, parsed_version) AS version,
    multiIf(Body = '', 'null', body_ok, Body, toJSONString(Body)) AS metadata,
    if(changes_ok, raw_changes, '') AS changes,
    if(parsed_count = 0, 1, parsed_count) AS count,
    ifNull(parsed_last, ts) AS last_occurred_at,
    arrayStringConcat(arrayFilter(x -> x != '', [
        if(parsed_id IS NULL, {{attr_eventId}}, ''),
        if(raw_tenant = '', {{attr_tenant}}, ''),
        if(LogAttributes[{{attr_action}}] = '', {{attr_action}}, ''),
        if(raw_crud = '' OR raw_crud IN {{values_crud}}, '', {{attr_crud}}),
        if(raw_outcome = '' OR raw_outcome IN {{values_outcome}}, '', {{attr_outcome}}),
        if(raw_actor_id = '', {{attr_actorId}}, ''),
        if(raw_actor_type = '', {{attr_actorType}}, ''),
        if(actor_fields_ok, '', {{attr_actorFields}}),
        -- type and id non-empty strings, name a string or absent, fields an object or absent (CONVENTIONS.md):
        -- JSONExtract would silently turn a number into its text and drop a non-object fields.
        if(targets_ok AND length(target_items) = length(raw_items) AND arrayAll(x ->
                JSONType(x, 'type') = 'String' AND JSONType(x, 'id') = 'String'
                AND JSONType(x, 'name') IN ('String', 'Null') AND JSONType(x, 'fields') IN ('Object', 'Null'),
                target_items)
            AND NOT arrayExists(t -> t.type = '' OR t.id = '', parsed_targets), '', {{attr_targets}}),
        if(changes_ok, '', {{attr_changes}}),
        if(raw_version = '' OR parsed_version > 0, '', {{attr_version}}),
        if(raw_count = '' OR parsed_count > 0, '', {{attr_count}}),
        if(raw_last = '' OR parsed_last IS NOT NULL, '', {{attr_lastOccurredAt}}),
        if(body_ok, '', 'body')
    ]), ',') AS malformed
FROM {{db}}.otel_logs
WHERE mapContains(LogAttributes, {{attr_action}});
