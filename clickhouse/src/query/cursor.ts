import { createHash } from 'node:crypto';
import { AuditStoreInputError } from '../errors.js';
import type { EventFilter } from './filters.js';

/**
 * Position after the last row of a page: the keyset (occurred_at, event_id, cityHash64(actor_id)) of that row. The
 * hash orders rows of one id and millisecond under different actors (an id re-sent under another actor is a
 * second row): with (occurred_at, event_id) alone every such row after the first on a page boundary was skipped.
 * A hash, not the id: an actor id may be 4,096 characters, a cursor travels in a URL. Left out (null) for a query
 * of one actor, where no two rows share (occurred_at, event_id).
 */
export interface CursorKey {
  occurredAtMs: number;
  eventId: string;
  /**
   * cityHash64(actor_id) as decimal text; undefined where no tie-break applies: a query of one actor, or a
   * cursor of an earlier release (version 2).
   */
  actorHash?: string;
  /** `queryFingerprint` of the tenant and filters whose pages the cursor walks. */
  query: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const FINGERPRINT = /^[A-Za-z0-9_-]{11}$/;

const sorted = (values: readonly string[] | undefined) => [...new Set(values ?? [])].sort();

/**
 * A short hash of what a query selects (tenant and filters; not its page, nor its time range: a client may
 * recompute `to=now` for every page, and the keyset bound holds whatever the range): a cursor carries it, so one
 * used with another tenant or other filters is refused instead of silently starting that query part-way.
 */
export function queryFingerprint(filter: EventFilter): string {
  const canonical = JSON.stringify([
    filter.tenant,
    sorted(filter.actions),
    sorted(filter.crud),
    filter.outcome ?? null,
    filter.actor === undefined ? null : [filter.actor.id, filter.actor.type ?? null],
    filter.target === undefined ? null : [filter.target.type, filter.target.id],
  ]);
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 11);
}

const UINT64_TEXT = /^(0|[1-9]\d{0,19})$/;

/** Opaque to callers (base64url JSON), so its shape can change without breaking them. */
export function encodeCursor(key: CursorKey): string {
  const actorHash = key.actorHash ?? null;
  return Buffer.from(JSON.stringify([3, key.occurredAtMs, key.eventId, actorHash, key.query])).toString(
    'base64url',
  );
}

export function decodeCursor(cursor: string): CursorKey {
  const invalid = () => new AuditStoreInputError('cursor', 'is not a cursor returned by this store');
  if (typeof cursor !== 'string' || cursor.length > 200 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalid();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (Array.isArray(parsed) && parsed[0] === 1)
    throw new AuditStoreInputError(
      'cursor',
      'comes from an earlier release (its cursors did not name their query): start again without it',
    );
  if (!Array.isArray(parsed)) throw invalid();
  // Version 2 (no actor hash) is still read: a client paging across an upgrade continues as before.
  let ms: unknown;
  let id: unknown;
  let actorHash: unknown;
  let query: unknown;
  if (parsed.length === 4 && parsed[0] === 2) [, ms, id, query] = parsed;
  else if (parsed.length === 5 && parsed[0] === 3) {
    [, ms, id, actorHash, query] = parsed;
    if (
      actorHash !== null &&
      (typeof actorHash !== 'string' || !UINT64_TEXT.test(actorHash) || BigInt(actorHash) >= 2n ** 64n)
    )
      throw invalid();
  } else throw invalid();
  // Negative too: events before 1970 exist (a Go or Java exporter's cast of such a time, SQL inserts).
  if (typeof ms !== 'number' || !Number.isSafeInteger(ms)) throw invalid();
  if (typeof id !== 'string' || !UUID.test(id)) throw invalid();
  if (typeof query !== 'string' || !FINGERPRINT.test(query)) throw invalid();
  return {
    occurredAtMs: ms,
    eventId: id,
    ...(typeof actorHash === 'string' && { actorHash }),
    query,
  };
}
