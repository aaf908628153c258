/** Base class of every error the store throws on purpose. */
export class AuditStoreError extends Error {
  override name = 'AuditStoreError';
}

/** A caller-supplied value is invalid (the message says which one and why). */
export class AuditStoreInputError extends AuditStoreError {
  override name = 'AuditStoreInputError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

/** An applied migration's SQL no longer matches what is on disk. */
export class MigrationChecksumError extends AuditStoreError {
  override name = 'MigrationChecksumError';
  constructor(
    readonly version: number,
    readonly migration: string,
    readonly applied: string,
    readonly current: string,
  ) {
    super(
      `migration ${migration} was applied with checksum ${applied} but the file now has ${current}: ` +
        'applied migrations must never change; add a new migration instead',
    );
  }
}

/** The embedded data directory is used by another process (chDB allows one process per directory). */
export class DataDirectoryLockedError extends AuditStoreError {
  override name = 'DataDirectoryLockedError';
  constructor(
    readonly path: string,
    options?: { cause?: unknown },
  ) {
    super(
      `data directory ${path} is locked by another process: stop the other otel-audit process using it ` +
        '(e.g. a running `otel-audit serve`), or point this one at a ClickHouse server (--url) or another directory',
      options,
    );
  }
}

/** chDB is an optional dependency: the embedded mode needs it installed. */
export class ChdbNotInstalledError extends AuditStoreError {
  override name = 'ChdbNotInstalledError';
  constructor(options?: { cause?: unknown }) {
    super(
      'the embedded store needs the optional dependency "chdb" (npm install chdb), ' +
        'or open the store on a ClickHouse server with { url }',
      options,
    );
  }
}
