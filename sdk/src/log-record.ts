// An audit event as the OTel log record the conventions describe (CONVENTIONS.md): the one place where the
// event model meets attribute names.
import type { Attributes, LogRecord } from '@opentelemetry/api';
import { AUDIT_ATTRIBUTES as A, AUDIT_SEVERITY } from './conventions.js';
import type { PreparedAuditEvent } from './event.js';

/**
 * The log record of one prepared event. Structured values (targets, actor fields, changes) travel as JSON text
 * in string attributes and the metadata as JSON text in the body: every hop (OTLP, the collector, the
 * ClickHouse exporter's `Map(String, String)`) keeps them byte for byte.
 */
export function toLogRecord({ event, json }: PreparedAuditEvent, observedAt: Date = new Date()): LogRecord {
  const attributes: Attributes = {
    [A.eventId]: event.id,
    [A.action]: event.action,
    [A.tenant]: event.tenant,
    [A.crud]: event.crud,
    [A.outcome]: event.outcome,
    [A.actorId]: event.actor.id,
    [A.actorType]: event.actor.type,
    [A.targets]: json.targets,
    [A.version]: event.version,
  };
  if (event.outcomeReason !== undefined) attributes[A.outcomeReason] = event.outcomeReason;
  if (event.actor.name !== undefined) attributes[A.actorName] = event.actor.name;
  if (json.actorFields !== undefined) attributes[A.actorFields] = json.actorFields;
  if (event.context.ip !== undefined) attributes[A.contextIp] = event.context.ip;
  if (event.context.userAgent !== undefined) attributes[A.contextUserAgent] = event.context.userAgent;
  if (event.context.requestId !== undefined) attributes[A.contextRequestId] = event.context.requestId;
  if (json.changes !== undefined) attributes[A.changes] = json.changes;
  if (event.count !== 1) {
    attributes[A.count] = event.count;
    attributes[A.lastOccurredAt] = event.lastOccurredAt.toISOString();
  }
  const severity = AUDIT_SEVERITY[event.outcome];
  return {
    eventName: event.action,
    timestamp: event.occurredAt,
    observedTimestamp: observedAt,
    severityNumber: severity.number,
    severityText: severity.text,
    body: json.metadata,
    attributes,
  };
}
