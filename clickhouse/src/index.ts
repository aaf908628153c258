export {
  assertChdbInstalled,
  BASE_SETTINGS,
  type EmbeddedTarget,
  isEmbeddedTarget,
  type OpenedClient,
  type RawInsert,
  type ServerTarget,
  type StoreTarget,
} from './connection.js';
export {
  AuditStoreError,
  AuditStoreInputError,
  ChdbNotInstalledError,
  DataDirectoryAccessError,
  DataDirectoryLockedError,
  MigrationChecksumError,
  NotClickHouseError,
  OtherDataDirectoryOpenError,
  StoreAuthError,
  StoreClosedError,
  StoreUnreachableError,
} from './errors.js';
export { displayServerUrl, isStoreUnreachable } from './failures.js';
export { quoteClusterName, quoteDatabase, quoteIdentifier } from './identifiers.js';
export {
  loadMigrations,
  MAX_RETENTION_DAYS,
  MIGRATIONS_DIR,
  type Migration,
  type MigrationHooks,
  type MigrationOptions,
  type MigrationResult,
  type MigrationStatus,
  migrationSql,
  migrationStatus,
  renderMigration,
  runMigrations,
} from './migrations.js';
export { OTEL_LOG_COLUMNS, type OtelLogRow } from './otel-logs.js';
export { type CursorKey, decodeCursor, encodeCursor, queryFingerprint } from './query/cursor.js';
export {
  CSV_COLUMNS,
  EXPORT_PAGE_BYTES,
  type ExportFormat,
  type ExportOptions,
  type ExportOrder,
} from './query/export.js';
export {
  type ActorRef,
  checkQuery,
  DEFAULT_LIMIT,
  type EventFilter,
  MAX_ACTIONS,
  MAX_LIMIT,
  MAX_VALUE_LENGTH,
  type PageOptions,
  type TargetRef,
} from './query/filters.js';
export {
  type ActionCount,
  checkEventId,
  type EventPage,
  eventIdText,
  INTERVALS,
  type Interval,
  type TimeBucket,
  type TimelineOptions,
} from './query/operations.js';
export { type StoredAuditEvent, StoredEventParseError } from './query/rows.js';
export { parseIsoTime, type SubMillisecond } from './query/time.js';
export { type StoreStatus, storeStatus, type TableStatus } from './status.js';
export { type AuditReads, AuditStore, type QueryParams } from './store.js';
