// The size of an event's log record as the receiver measures it: the body and every attribute key and value,
// in UTF-8 bytes. Used by validation and again for a coalesced (merged) event, which may be bigger than each
// of its occurrences.
import { AUDIT_ATTRIBUTES } from './conventions.js';
import type { AuditEvent, EventJson } from './event.js';

// Attribute keys and the fixed-size values (id, version, count, last time) of a record, in characters.
const FIXED_RECORD_CHARS =
  Object.values(AUDIT_ATTRIBUTES).reduce((n, key) => n + key.length, 0) + 36 + 10 + 10 + 24;

/** The record's size in bytes when it is over `limit`, else undefined. */
export function recordSizeOver(
  { event, json }: { event: AuditEvent; json: EventJson },
  limit: number,
): number | undefined {
  const texts = [
    json.metadata,
    json.targets,
    json.actorFields,
    json.changes,
    event.action,
    event.tenant,
    event.outcomeReason,
    event.actor.id,
    event.actor.type,
    event.actor.name,
    event.context.ip,
    event.context.userAgent,
    event.context.requestId,
  ];
  let chars = FIXED_RECORD_CHARS + event.action.length; // the action is also the record's event name
  for (const t of texts) chars += t?.length ?? 0;
  // A UTF-16 code unit is at most 3 UTF-8 bytes: count bytes only when the record could be over the limit.
  if (chars * 3 <= limit) return undefined;
  let size = FIXED_RECORD_CHARS + event.action.length;
  for (const t of texts) size += t === undefined ? 0 : Buffer.byteLength(t);
  return size > limit ? size : undefined;
}

/** OTLP/JSON framing of one attribute (`{"key":"","value":{"stringValue":""}},`), in bytes. */
const ATTRIBUTE_FRAMING_BYTES = 40;
/** OTLP/JSON framing of one log record: times, severity, trace and span ids, field names. */
const RECORD_FRAMING_BYTES = 320;

function valueBytes(value: unknown): number {
  if (typeof value === 'string') return Buffer.byteLength(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return 24;
  if (value === undefined || value === null) return 0;
  try {
    return Buffer.byteLength(JSON.stringify(value) ?? '');
  } catch {
    return 0;
  }
}

/**
 * A log record's share of an OTLP export request, as the processor sizes its batches: the body, event name
 * and every attribute key and value in UTF-8 bytes, plus their OTLP/JSON framing. JSON text inside a string
 * is escaped on the wire (`"` becomes `\"`), so a request can be somewhat bigger than the sum.
 */
export function logRecordBytes(record: {
  readonly body?: unknown;
  readonly eventName?: string | undefined;
  readonly attributes: Readonly<Record<string, unknown>>;
}): number {
  let bytes = RECORD_FRAMING_BYTES + valueBytes(record.body) + valueBytes(record.eventName);
  for (const key in record.attributes)
    bytes += ATTRIBUTE_FRAMING_BYTES + Buffer.byteLength(key) + valueBytes(record.attributes[key]);
  return bytes;
}
