// `@otel-audit/sdk/event`: the event type and its schema without the logger, for code that reads stored events
// (the query module) and must not load @opentelemetry/api.
export { type AuditEvent, auditEventSchema, parseAuditEvent } from './event.js';
