import { AuditStoreInputError } from '../errors.js';

/** Position after the last row of a page: the keyset (occurred_at, event_id) of that row. */
export interface CursorKey {
  occurredAtMs: number;
  eventId: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Opaque to callers (base64url JSON), so its shape can change without breaking them. */
export function encodeCursor(key: CursorKey): string {
  return Buffer.from(JSON.stringify([1, key.occurredAtMs, key.eventId])).toString('base64url');
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
  if (!Array.isArray(parsed) || parsed.length !== 3 || parsed[0] !== 1) throw invalid();
  const [, ms, id] = parsed as [number, unknown, unknown];
  if (typeof ms !== 'number' || !Number.isSafeInteger(ms) || ms < 0) throw invalid();
  if (typeof id !== 'string' || !UUID.test(id)) throw invalid();
  return { occurredAtMs: ms, eventId: id };
}
