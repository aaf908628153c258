// The event schema alone: the SDK's main entry loads the logger, which needs @opentelemetry/api.

import { AUDIT_COLUMNS } from '@otel-audit/sdk/conventions';
import { type AuditEvent, auditEventSchema } from '@otel-audit/sdk/event';
import { AuditStoreError } from '../errors.js';

/** An event as stored: the SDK's event plus what only the store knows. */
export interface StoredAuditEvent extends AuditEvent {
  /** When the store wrote the row. */
  receivedAt: Date;
  traceId?: string;
  spanId?: string;
  serviceName: string;
  /** Names of the audit attributes that were missing or malformed on ingest (empty when clean). */
  malformed: string[];
}

/** The stored row does not parse back into an event (names the event). */
export class StoredEventParseError extends AuditStoreError {
  override name = 'StoredEventParseError';
  constructor(
    readonly eventId: string,
    detail: string,
  ) {
    super(`stored event ${eventId} does not parse back into an AuditEvent: ${detail}`);
  }
}

/**
 * Column list every event read selects (every column of audit_events, in table order): plain columns, converted here rather than in SQL (toString and
 * toUnixTimestamp64Milli cost ~0.5 ms of a 50-row page, ~10% of the query). UUIDs and enums come back as text,
 * times as `YYYY-MM-DD hh:mm:ss.sss` in UTC (`date_time_output_format = 'simple'`, UTC columns).
 */
export const EVENT_SELECT = Object.values(AUDIT_COLUMNS).join(', ');

export interface EventRow {
  tenant: string;
  event_id: string;
  occurred_at: string;
  received_at: string;
  action: string;
  crud: string;
  outcome: string;
  outcome_reason: string;
  actor_id: string;
  actor_type: string;
  actor_name: string;
  actor_fields: string;
  targets: { type: string; id: string; name: string }[];
  target_fields: string[];
  ip: string;
  user_agent: string;
  request_id: string;
  trace_id: string;
  span_id: string;
  service_name: string;
  version: number;
  metadata: string;
  changes: string;
  count: number;
  last_occurred_at: string;
  malformed: string;
}

const UTC_TIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}$/;

/** A DateTime64(3) read back as text (see EVENT_SELECT): epoch milliseconds. */
export function utcMillis(text: string, eventId: string, column: string): number {
  const ms = UTC_TIME.test(text) ? Date.parse(`${text.replace(' ', 'T')}Z`) : Number.NaN;
  if (Number.isNaN(ms)) throw new StoredEventParseError(eventId, `${column} is not a UTC time: ${text}`);
  return ms;
}

// The view only stores valid JSON (or '' for absent), so a parse failure here means a hand-written row.
function json(text: string, eventId: string, column: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new StoredEventParseError(eventId, `${column} is not valid JSON`);
  }
}

export function rowToEvent(row: EventRow): StoredAuditEvent {
  const id = row.event_id;
  const actorFields = row.actor_fields === '' ? undefined : json(row.actor_fields, id, 'actor_fields');
  const candidate = {
    id,
    action: row.action,
    actor: {
      id: row.actor_id,
      type: row.actor_type,
      ...(row.actor_name !== '' && { name: row.actor_name }),
      ...(actorFields !== undefined && { fields: actorFields }),
    },
    targets: row.targets.map((t, i) => {
      const fields = row.target_fields[i]
        ? json(row.target_fields[i] as string, id, 'target_fields')
        : undefined;
      return {
        type: t.type,
        id: t.id,
        ...(t.name !== '' && { name: t.name }),
        ...(fields !== undefined && { fields }),
      };
    }),
    tenant: row.tenant,
    crud: row.crud,
    outcome: row.outcome,
    ...(row.outcome_reason !== '' && { outcomeReason: row.outcome_reason }),
    occurredAt: new Date(utcMillis(row.occurred_at, id, 'occurred_at')),
    version: Number(row.version),
    context: {
      ...(row.ip !== '' && { ip: row.ip }),
      ...(row.user_agent !== '' && { userAgent: row.user_agent }),
      ...(row.request_id !== '' && { requestId: row.request_id }),
    },
    metadata: json(row.metadata, id, 'metadata'),
    ...(row.changes !== '' && { changes: json(row.changes, id, 'changes') }),
    count: Number(row.count),
    lastOccurredAt: new Date(utcMillis(row.last_occurred_at, id, 'last_occurred_at')),
  };
  const parsed = auditEventSchema.safeParse(candidate);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new StoredEventParseError(id, `${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
  }
  // The checked candidate, not zod's copy: that rebuilds JSON objects and drops an own `__proto__` key.
  return {
    ...(candidate as AuditEvent),
    receivedAt: new Date(utcMillis(row.received_at, id, 'received_at')),
    ...(row.trace_id !== '' && { traceId: row.trace_id }),
    ...(row.span_id !== '' && { spanId: row.span_id }),
    serviceName: row.service_name,
    malformed: row.malformed === '' ? [] : row.malformed.split(','),
  };
}
