/**
 * The otel-audit event conventions: the one place where every name an audit record carries is defined.
 *
 * The SDK emits these names, the ClickHouse migrations read them, the collector configs route on them and
 * the dashboards query the columns they land in. Tests elsewhere import this module instead of copying
 * strings. CONVENTIONS.md documents the same names for services written in other languages.
 */

/** Instrumentation scope name of the logger the SDK emits through. */
export const AUDIT_SCOPE_NAME = 'otel-audit';

/** Version of these conventions, carried as the instrumentation scope version. */
export const CONVENTIONS_VERSION = '1';

/**
 * OTel log record attribute keys. Every value is a primitive (string or int) so that any OTel SDK can emit it
 * and the collector's ClickHouse exporter stores it verbatim in `LogAttributes` (a `Map(String, String)`).
 * Structured values (targets, actor fields, changes) are JSON text in a string attribute: see CONVENTIONS.md.
 * Renaming one needs a new migration: databases already migrated keep reading the old name
 * (clickhouse/test/conventions-pinned.test.ts pins them).
 */
export const AUDIT_ATTRIBUTES = {
  /**
   * UUID of the event. Copies of a record (retries) collapse into one row: the store's key is tenant, actor id,
   * occurred_at and this id, so a re-sent record collapses when all four repeat.
   */
  eventId: 'audit.event.id',
  /** `<service>.<resource>.<verb_past_tense>`, lowercase, dot-separated. Its presence marks an audit record. */
  action: 'audit.action',
  actorId: 'audit.actor.id',
  actorType: 'audit.actor.type',
  actorName: 'audit.actor.name',
  /** JSON object text: free key/value facts about the actor. */
  actorFields: 'audit.actor.fields',
  /** JSON array text: `[{"type":"…","id":"…","name":"…","fields":{…}}]`, `[]` when the event has no target. */
  targets: 'audit.targets',
  /** Tenant (organization, group, workspace): every read is scoped to one. */
  tenant: 'audit.tenant',
  /** `create` | `read` | `update` | `delete` | `unknown`. */
  crud: 'audit.crud',
  /** `success` | `failure`. */
  outcome: 'audit.outcome',
  outcomeReason: 'audit.outcome.reason',
  /** Integer schema version of this action's metadata. */
  version: 'audit.version',
  /** Client IP address (IPv4 or IPv6). */
  contextIp: 'audit.context.ip',
  contextUserAgent: 'audit.context.user_agent',
  contextRequestId: 'audit.context.request_id',
  /** JSON object text `{"before":…,"after":…}`. */
  changes: 'audit.changes',
  /** Number of occurrences merged into this event by session coalescing (absent = 1). */
  count: 'audit.count',
  /** RFC 3339 time of the latest merged occurrence (absent = occurred_at, which is the earliest one's). */
  lastOccurredAt: 'audit.last_occurred_at',
} as const;

export type AuditAttributeName = keyof typeof AUDIT_ATTRIBUTES;
export type AuditAttributeKey = (typeof AUDIT_ATTRIBUTES)[AuditAttributeName];

/** The attribute whose presence makes a log record an audit record (collector routing, MV filter). */
export const AUDIT_MARKER_ATTRIBUTE = AUDIT_ATTRIBUTES.action;

/**
 * How the other log record fields are used:
 * - `eventName` = the action (same value as `audit.action`);
 * - `timestamp` = when the audited thing happened (occurred_at); `observedTimestamp` = when it was recorded;
 * - `body` = the metadata as JSON text (any JSON value; `null` when there is none);
 * - severity: INFO (9) for a success, WARN (13) for a failure;
 * - trace and span ids: the active span's, when there is one.
 */
export const AUDIT_SEVERITY = {
  success: { number: 9, text: 'INFO' },
  failure: { number: 13, text: 'WARN' },
} as const;

export const CRUD_VALUES = ['create', 'read', 'update', 'delete', 'unknown'] as const;
export type Crud = (typeof CRUD_VALUES)[number];

export const OUTCOME_VALUES = ['success', 'failure'] as const;
export type Outcome = (typeof OUTCOME_VALUES)[number];

/** Actor used when an event names none: the service itself. */
export const DEFAULT_ACTOR = { id: 'system', type: 'system' } as const;

/** Default maximum size of one event's whole log record (body and every attribute key and value, UTF-8 bytes): 1 MiB. */
export const DEFAULT_MAX_EVENT_BYTES = 1024 * 1024;

/** Largest `audit.version`: the column is a UInt32. */
export const MAX_AUDIT_VERSION = 2 ** 32 - 1;

/**
 * Range of event times (epoch ms) that survive OTLP and the store: OTLP carries times as uint64 nanoseconds
 * (nothing before 1970) and reads 0 as "unset" (the receiver would take the observed time instead), and
 * `otel_logs.Timestamp` is a DateTime64(9) (Int64 nanoseconds: nothing after 2262-04-11T23:47:16.854775807Z).
 */
export const MIN_OCCURRED_AT_MS = 1;
export const MAX_OCCURRED_AT_MS = 9_223_372_036_854;

/**
 * Longest tenant, action, actor and target type and id, in UTF-16 code units (JavaScript `.length`): the
 * longest value reads accept as a filter, so a longer one would be stored and never found.
 */
export const MAX_REFERENCE_LENGTH = 4096;

/** `<service>.<resource>.<verb>` in strict mode; at least one lowercase segment otherwise. */
export const ACTION_PATTERN = /^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/;
export const STRICT_ACTION_PATTERN = /^[a-z0-9_-]+\.[a-z0-9_-]+\.[a-z0-9_-]+$/;

export * from './columns.js';

/**
 * CRUD class inferred from the action's last segment when the caller gives none.
 * Verbs are past tense per the naming convention; a verb not listed gives `unknown`.
 */
export const CRUD_BY_VERB: Readonly<Record<string, Crud>> = {
  created: 'create',
  added: 'create',
  invited: 'create',
  registered: 'create',
  signed_up: 'create',
  uploaded: 'create',
  issued: 'create',
  generated: 'create',
  read: 'read',
  viewed: 'read',
  listed: 'read',
  exported: 'read',
  downloaded: 'read',
  accessed: 'read',
  searched: 'read',
  fetched: 'read',
  updated: 'update',
  changed: 'update',
  modified: 'update',
  renamed: 'update',
  edited: 'update',
  enabled: 'update',
  disabled: 'update',
  paid: 'update',
  approved: 'update',
  rejected: 'update',
  assigned: 'update',
  unassigned: 'update',
  moved: 'update',
  restored: 'update',
  rotated: 'update',
  reset: 'update',
  saved: 'update',
  deleted: 'delete',
  removed: 'delete',
  revoked: 'delete',
  destroyed: 'delete',
  purged: 'delete',
  archived: 'delete',
};

/** CRUD class for an action per `CRUD_BY_VERB` (last dot-separated segment). */
export function inferCrud(action: string): Crud {
  const verb = action.slice(action.lastIndexOf('.') + 1);
  return Object.hasOwn(CRUD_BY_VERB, verb) ? (CRUD_BY_VERB[verb] as Crud) : 'unknown';
}
