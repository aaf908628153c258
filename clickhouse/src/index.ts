export {
  BASE_SETTINGS,
  type EmbeddedTarget,
  type ServerTarget,
  type StoreTarget,
} from './connection.js';
export {
  AuditStoreError,
  AuditStoreInputError,
  ChdbNotInstalledError,
  DataDirectoryLockedError,
  MigrationChecksumError,
} from './errors.js';
export { quoteIdentifier } from './identifiers.js';
export {
  loadMigrations,
  MIGRATIONS_DIR,
  type Migration,
  type MigrationOptions,
  type MigrationResult,
  migrationSql,
  renderMigration,
  runMigrations,
} from './migrations.js';
export { OTEL_LOG_COLUMNS, type OtelLogRow } from './otel-logs.js';
export { AuditStore, type QueryParams } from './store.js';
