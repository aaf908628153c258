// An audit event as the OTel log record the conventions describe (sdk/src/conventions.ts). Stopgap: the SDK's
// own `record()` (createAuditLogger) was not committed when the demo was written; once it is, the demo logger
// below should delegate to it and this file go away.
import type { LogRecord } from '@opentelemetry/api';
import { AUDIT_ATTRIBUTES as A, AUDIT_SEVERITY, type AuditEvent } from '@otel-audit/sdk';

export function auditLogRecord(event: AuditEvent, observedAt: Date = new Date()): LogRecord {
  const attributes: NonNullable<LogRecord['attributes']> = {
    [A.eventId]: event.id,
    [A.action]: event.action,
    [A.tenant]: event.tenant,
    [A.crud]: event.crud,
    [A.outcome]: event.outcome,
    [A.actorId]: event.actor.id,
    [A.actorType]: event.actor.type,
    // Structured values travel as JSON text (conventions: survives every hop identically).
    [A.targets]: JSON.stringify(event.targets),
    [A.version]: event.version,
  };
  if (event.outcomeReason !== undefined) attributes[A.outcomeReason] = event.outcomeReason;
  if (event.actor.name !== undefined) attributes[A.actorName] = event.actor.name;
  if (event.actor.fields !== undefined) attributes[A.actorFields] = JSON.stringify(event.actor.fields);
  if (event.context.ip !== undefined) attributes[A.contextIp] = event.context.ip;
  if (event.context.userAgent !== undefined) attributes[A.contextUserAgent] = event.context.userAgent;
  if (event.context.requestId !== undefined) attributes[A.contextRequestId] = event.context.requestId;
  if (event.changes !== undefined) attributes[A.changes] = JSON.stringify(event.changes);
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
    body: JSON.stringify(event.metadata ?? null),
    attributes,
  };
}
