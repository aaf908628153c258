// SQL pieces shared by the panels: names come from the conventions module, never copied.
import { AUDIT_COLUMNS as C, AUDIT_TABLES as T } from '@otel-audit/sdk/conventions';

export { C, T };

/** Grafana variable names (URL parameters are `var-<name>`). */
export const VAR = {
  tenant: 'tenant',
  actor: 'actor',
  targetType: 'target_type',
  targetId: 'target_id',
  eventId: 'event_id',
} as const;
export type VariableName = (typeof VAR)[keyof typeof VAR];

/**
 * A variable as a string value. Grafana's quoting formats cannot be trusted with ClickHouse: `singlequote` and
 * `sqlstring` leave backslashes alone, so a value ending in `\` or holding `\'` breaks out of the literal (SQL
 * injection, and values like `CORP\alice` silently match nothing). `percentencode` leaves only
 * `[A-Za-z0-9._~%-]` in the literal, decoded back by ClickHouse; a constant, so key pruning still applies.
 */
export function quoted(name: VariableName): string {
  return `decodeURLComponent('\${${name}:percentencode}')`;
}

/** The dashboard time range over a DateTime64(3) column, to the millisecond (`$__timeFilter` cuts to seconds). */
export function timeFilter(column: string = C.occurredAt): string {
  return `$__timeFilter_ms(${column})`;
}

/**
 * Newest first, ties broken as the query module breaks them (event id, then the actor id's hash, descending): a
 * panel's LIMIT cuts a burst of events in one millisecond where `otel-audit events --limit` and the API's pages do.
 * The id is qualified: a panel selecting it as text under its own name (the Event stream's labels) sorted the
 * text, and a UUID sorts otherwise (its second half first).
 */
export const NEWEST_FIRST = `${C.occurredAt} DESC, ${T.events}.${C.eventId} DESC, cityHash64(${C.actorId}) DESC`;

/**
 * audit_events is a ReplacingMergeTree: a retried insert can sit as a second row until a merge, so every read
 * of it uses FINAL (the query module does the same) and never shows an event twice.
 */
export const EVENTS = `${T.events} FINAL`;

/**
 * Tenant and dashboard time range, the scope of every query. An empty tenant box (no tenant listed yet) shows
 * nothing, not the events sent without a tenant (readable in SQL only, CONVENTIONS.md).
 */
export function scope(column: string = C.occurredAt): string {
  return `${quoted(VAR.tenant)} != '' AND ${C.tenant} = ${quoted(VAR.tenant)} AND ${timeFilter(column)}`;
}

/** Rows of the selected actor: audit_events is sorted by (tenant, actor_id, occurred_at), a key range. */
export function actorScope(): string {
  // An empty box (the dashboard opened from the list) shows nothing, not the events sent without an actor.
  return `${scope()} AND ${quoted(VAR.actor)} != '' AND ${C.actorId} = ${quoted(VAR.actor)}`;
}

/**
 * Rows that touched the selected target: (actor_id, occurred_at) keys from the narrow by-target table, then
 * the full rows by key, checked to contain the target (two events of one actor in one millisecond share a key).
 */
export function targetScope(): string {
  return `${scope()} AND ${quoted(VAR.targetId)} != ''
  AND arrayExists(t -> t.type = ${quoted(VAR.targetType)} AND t.id = ${quoted(VAR.targetId)}, ${C.targets})
  AND (${C.actorId}, ${C.occurredAt}) IN (
    SELECT ${C.actorId}, ${C.occurredAt} FROM ${T.byTarget}
    WHERE ${C.tenant} = ${quoted(VAR.tenant)} AND target_type = ${quoted(VAR.targetType)}
      AND target_id = ${quoted(VAR.targetId)} AND ${timeFilter()}
  )`;
}

/**
 * One event by id, whatever the dashboard's time range (a link pasted into a ticket carries a relative range such
 * as the last 7 days, which the event leaves behind). The id is trimmed (pasted with a newline); one that is not a
 * UUID matches nothing (NULL; not the nil UUID a sender may store) instead of failing the panel.
 */
export function eventScope(): string {
  return `${quoted(VAR.tenant)} != '' AND ${C.tenant} = ${quoted(VAR.tenant)} AND ${C.eventId} = toUUIDOrNull(trim(BOTH ' \\t\\n\\r' FROM ${quoted(VAR.eventId)}))`;
}

/** A day either side of the event (epoch ms), for links out of a panel the dashboard's range does not bind. */
export const EVENT_RANGE = `toUnixTimestamp64Milli(${C.occurredAt}) - 86400000 AS range_from,
  toUnixTimestamp64Milli(${C.occurredAt}) + 86400000 AS range_to`;
export const EVENT_RANGE_COLUMNS = { from: 'range_from', to: 'range_to' } as const;

/** All targets of an event as `type:id` text (also on a target's history: what else the event touched). */
export const ALL_TARGETS = `arrayStringConcat(arrayMap(t -> concat(t.type, ':', t.id), ${C.targets}), ', ') AS all_targets`;

/** First target's type and id (link columns) and all targets as `type:id` text. */
export const TARGET_COLUMNS = `${C.targets}.type[1] AS target_type, ${C.targets}.id[1] AS target_id,
  ${ALL_TARGETS}`;

/**
 * A coalesced event (the SDK's coalesce(): N occurrences in one row) counts once everywhere; tables show how
 * many occurrences it stands for and when the last one was.
 */
export const OCCURRENCES = `${C.count} AS occurrences, ${C.lastOccurredAt}`;

/**
 * An event's targets, each (type, id) once (the first, with its name): an event may name a target twice, and a
 * per-target count over the plain ARRAY JOIN counted that event twice. arrayEnumerateUniq is one pass.
 */
export const DISTINCT_TARGETS = `arrayFilter((t, n) -> n = 1, ${C.targets}, arrayEnumerateUniq(${C.targets}.type, ${C.targets}.id))`;

/**
 * When an actor or target was last seen: a coalesced event's last occurrence, not its first. `greatest`: a sender
 * other than the SDK may send a last occurrence before the event's time, which the store keeps as sent.
 */
export const LAST_SEEN = `max(greatest(${C.occurredAt}, ${C.lastOccurredAt})) AS last_seen`;
