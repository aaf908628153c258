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
    options?: ErrorOptions,
  ) {
    super(`${field}: ${message}`, options);
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
      `migration ${migration} was applied with checksum ${applied} but this release's file has ${current}, ` +
        'so this release cannot know what the store holds and changes nothing. Use the release that applied it. ' +
        'Changing the SQL ' +
        'of an applied migration is a bug: a change goes into a new migration',
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

/**
 * An embedded data directory (or its status file) that cannot be opened for reading and writing: this user may
 * not (EACCES, EPERM), a read-only file system (EROFS), a file where a directory should be (ENOTDIR).
 */
export class DataDirectoryAccessError extends AuditStoreError {
  override name = 'DataDirectoryAccessError';
  constructor(
    readonly path: string,
    readonly file: string,
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    const what = `data directory ${path}${file === path ? '' : `: its file ${file}`}`;
    super(`${what} ${accessProblem(code)}`, options);
  }
}

function accessProblem(code: string): string {
  // chDB writes to its data directory even to read (a lock, a status file).
  if (code === 'EACCES' || code === 'EPERM')
    return (
      `is not readable and writable by this user (${code}): run as the user that owns it, or change its owner ` +
      'or permissions (even a read opens the directory for writing)'
    );
  if (code === 'EROFS')
    return '(EROFS) is on a read-only file system: even a read opens the directory for writing; copy it to a writable place';
  if (code === 'ENOTDIR') return '(ENOTDIR): a part of its path is a file, not a directory';
  if (code === 'ENOENT')
    return '(ENOENT) cannot be created: the file system of its parent directory does not allow new directories';
  return `cannot be opened for reading and writing (${code})`;
}

/** Whether a failed import of chdb means the package itself is not installed (not: it is, but cannot load). */
function chdbMissing(cause: unknown): boolean {
  const e = cause as { code?: unknown; message?: unknown } | undefined;
  return e?.code === 'ERR_MODULE_NOT_FOUND' && /['"]chdb['"/]/.test(String(e.message));
}

/**
 * chDB is an optional dependency: the embedded mode needs it installed, and its native library for this platform
 * (npm leaves that out with --omit=optional, on musl/Windows, or through its lockfile bug with platform packages).
 */
export class ChdbNotInstalledError extends AuditStoreError {
  override name = 'ChdbNotInstalledError';
  constructor(options?: { cause?: unknown }) {
    const cause = options?.cause;
    super(
      cause === undefined || chdbMissing(cause)
        ? 'the embedded store needs the optional dependency "chdb" (npm install chdb), ' +
            "or use a ClickHouse server instead (the store's url option; --url in the CLI)"
        : `the embedded store needs chdb, which is installed but cannot load here: ${
            cause instanceof Error ? cause.message : String(cause)
          } (reinstall it on this platform, e.g. rm -rf node_modules/chdb node_modules/@chdb && npm install chdb; ` +
            "or use a ClickHouse server instead: the store's url option, --url in the CLI)",
      options,
    );
  }
}

/**
 * The store's ClickHouse server could not be reached, dropped the connection or did not answer in time: the
 * store is down, not broken, and a later call may succeed. `reason` is the network's or client's own words.
 */
export class StoreUnreachableError extends AuditStoreError {
  override name = 'StoreUnreachableError';
  constructor(
    readonly url: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot reach the ClickHouse server at ${url}: ${reason}`, options);
  }
}

/** The server answers HTTP, but not as ClickHouse's HTTP interface (another service, a proxy's page, port 9000). */
export class NotClickHouseError extends AuditStoreError {
  override name = 'NotClickHouseError';
  constructor(
    readonly url: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(
      `${url} does not answer as a ClickHouse server's HTTP interface (is it the HTTP port, 8123 or 8443 by ` +
        `default, or a proxy's address with its path in ?pathname=?): ${reason}`,
      options,
    );
  }
}

/** The server refused the user or password (ClickHouse codes 516 AUTHENTICATION_FAILED, 192 UNKNOWN_USER). */
export class StoreAuthError extends AuditStoreError {
  override name = 'StoreAuthError';
  constructor(
    readonly url: string,
    options?: { cause?: unknown },
  ) {
    const said = options?.cause instanceof Error ? options.cause.message.split('\n')[0] : '';
    super(
      `the ClickHouse server at ${url} refused the user or password (check username and password; the ` +
        `CLI's --user/--password): ${said}`,
      options,
    );
  }
}

/** A call on a store after its `close()`. */
export class StoreClosedError extends AuditStoreError {
  override name = 'StoreClosedError';
  constructor(options?: { cause?: unknown }) {
    super('the store is closed: open a new one (AuditStore.open) for further calls', options);
  }
}

/** chDB holds one data directory per process: another one is open in this process (by any store). */
export class OtherDataDirectoryOpenError extends AuditStoreError {
  override name = 'OtherDataDirectoryOpenError';
  constructor(
    readonly path: string,
    options?: { cause?: unknown },
  ) {
    const said = options?.cause instanceof Error ? ` (chDB: ${options.cause.message})` : '';
    super(
      `data directory ${path} cannot be opened: this process has another embedded data directory open, and chDB ` +
        `holds one per process: close that store first, or open this one from another process${said}`,
      options,
    );
  }
}
