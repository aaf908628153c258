import { createHash } from 'node:crypto';
import { AuditStoreInputError } from '../errors.js';
import type { EventFilter } from './filters.js';

/** Position after the last row of a page: the keyset (occurred_at, event_id) of that row. */
export interface CursorKey {
  occurredAtMs: number;
  eventId: string;
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

/** Opaque to callers (base64url JSON), so its shape can change without breaking them. */
export function encodeCursor(key: CursorKey): string {
  return Buffer.from(JSON.stringify([2, key.occurredAtMs, key.eventId, key.query])).toString('base64url');
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
  if (!Array.isArray(parsed) || parsed.length !== 4 || parsed[0] !== 2) throw invalid();
  const [, ms, id, query] = parsed as [number, unknown, unknown, unknown];
  if (typeof ms !== 'number' || !Number.isSafeInteger(ms) || ms < 0) throw invalid();
  if (typeof id !== 'string' || !UUID.test(id)) throw invalid();
  if (typeof query !== 'string' || !FINGERPRINT.test(query)) throw invalid();
  return { occurredAtMs: ms, eventId: id, query };
}
