import { AUDIT_TABLES } from '@otel-audit/sdk/conventions';
import { BASE_SETTINGS, type OpenedClient } from './connection.js';

/** Event ids per statement of rewriteTargetKeys (parameters of a server request stay small). */
const REWRITE_IDS = 2_000;

/**
 * Writes the target keys of stored events again, from their rows in audit_events: an insert the engine fails
 * part-way through its views (a full disk) can leave events stored without their keys, invisible to target
 * history until sent again, and a sender asked to retry may give up. Keys already there collapse (reads group
 * them). Ids are taken as the view takes them (any form `toUUIDOrNull` reads: no dashes, upper case); an event
 * stored under an id the view derived (its own missing or unreadable) cannot be named here, nor can one that
 * did not land.
 */
export async function rewriteTargetKeys(opened: OpenedClient, eventIds: readonly string[]): Promise<void> {
  const ids = eventIds.filter((id) => id.length <= MAX_ID_LENGTH);
  for (let at = 0; at < ids.length; at += REWRITE_IDS)
    await opened.client.command({
      query: `INSERT INTO ${opened.db}.${AUDIT_TABLES.byTarget} (tenant, target_type, target_id, occurred_at, actor_id)
        SELECT tenant, target.type, target.id, occurred_at, actor_id FROM ${opened.db}.${AUDIT_TABLES.events} FINAL
        ARRAY JOIN targets AS target
        WHERE event_id IN (SELECT arrayJoin(arrayMap(id -> toUUIDOrNull(id), {ids:Array(String)})))`,
      query_params: { ids: ids.slice(at, at + REWRITE_IDS) },
      clickhouse_settings: BASE_SETTINGS,
    });
}

/** Longer than any form of a UUID: names no event. */
const MAX_ID_LENGTH = 64;
