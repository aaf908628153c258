// Column and table names of the ClickHouse schema; part of the conventions (re-exported by conventions.ts).

/**
 * Columns of the typed `audit_events` table (ClickHouse), in table order. The migrations are tested against
 * this list; the query module's select list and the dashboards are built from it (the query module's conditions
 * name columns in SQL text, which its tests run against the real tables).
 */
export const AUDIT_COLUMNS = {
  tenant: 'tenant',
  eventId: 'event_id',
  occurredAt: 'occurred_at',
  receivedAt: 'received_at',
  action: 'action',
  crud: 'crud',
  outcome: 'outcome',
  outcomeReason: 'outcome_reason',
  actorId: 'actor_id',
  actorType: 'actor_type',
  actorName: 'actor_name',
  actorFields: 'actor_fields',
  /** `Array(Tuple(type String, id String, name String))`, never null, `[]` by default. */
  targets: 'targets',
  /** JSON object text per target, parallel to `targets`. */
  targetFields: 'target_fields',
  contextIp: 'ip',
  contextUserAgent: 'user_agent',
  contextRequestId: 'request_id',
  traceId: 'trace_id',
  spanId: 'span_id',
  serviceName: 'service_name',
  version: 'version',
  metadata: 'metadata',
  changes: 'changes',
  count: 'count',
  lastOccurredAt: 'last_occurred_at',
  /** Comma-separated names of the audit attributes that were missing or malformed ('' when clean). */
  malformed: 'malformed',
} as const;

export type AuditColumnName = (typeof AUDIT_COLUMNS)[keyof typeof AUDIT_COLUMNS];

/** Table names the migrations create (database configurable). */
export const AUDIT_TABLES = {
  logs: 'otel_logs',
  events: 'audit_events',
  /**
   * One narrow row per (event, target) sorted by (tenant, target_type, target_id, occurred_at): a target's
   * (actor_id, occurred_at) keys into audit_events. Named audit_events_by_target before migration 0006.
   */
  byTarget: 'audit_target_keys',
  /** Applied migrations (version, name, checksum). */
  migrations: 'otel_audit_migrations',
} as const;
