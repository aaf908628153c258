export {
  type ActionName,
  type ActionSchemas,
  defineAuditActions,
  type MetadataOf,
  type RecordInput,
} from './actions.js';
export type { CoalesceOptions, CoalescingRecorder } from './coalesce.js';
export * from './conventions.js';
export {
  DELIVERY_LISTENER_KEY,
  type DeliveryHooks,
  type DeliveryListener,
  type DeliveryStats,
  type DropReason,
  type EmittedRecord,
  type TrackedRecord,
  type UndeliveredEvent,
} from './delivery.js';
export * from './errors.js';
export * from './event.js';
export { auditEventInputSchema, type RawAuditEventInput } from './input.js';
export type { JsonObject, JsonValue } from './json.js';
export { toLogRecord } from './log-record.js';
export {
  type AuditLogger,
  type AuditLoggerLifecycle,
  type AuditLoggerOptions,
  createAuditLogger,
} from './logger.js';
