// Errors of the read commands (events, actor, target, export) that say what to do, not what the engine saw.
import { DataDirectoryLockedError } from '@otel-audit/clickhouse';

/** A value as one shell word, for commands the messages suggest. */
export function shellWord(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;
}

/** A server URL without its credentials, for messages. */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}

/**
 * The store a read command points at does not exist yet: a missing (mistyped?) data directory, a directory
 * that is not a chDB store, or a database without the audit tables (migrations not applied). Read commands
 * never create a store: that is `otel-audit migrate` or `otel-audit serve`.
 */
export class StoreNotFoundError extends Error {
  override name = 'StoreNotFoundError';
  constructor(
    /** The data directory or server URL (without credentials). */
    readonly where: string,
    reason: string,
    remedy: string,
  ) {
    super(`no otel-audit store at ${where}: ${reason}; ${remedy}`);
  }
}

/**
 * The store exists but lacks migrations this release reads through (an earlier release made it, or a migrate did
 * not finish): reading it would meet missing or incomplete tables (a target page could come back empty).
 */
export class StoreNeedsMigrationError extends Error {
  override name = 'StoreNeedsMigrationError';
  constructor(
    /** The data directory or server URL (without credentials). */
    readonly where: string,
    readonly pending: readonly string[],
    command: string,
  ) {
    super(
      `the otel-audit store at ${where} needs migration${pending.length > 1 ? 's' : ''} ${pending.join(', ')} ` +
        `(made by an earlier release, or a migrate that did not finish): run \`${command}\` (its data stays; a ` +
        'migration may copy some of it, minutes on a large store)',
    );
  }
}

/** The store was migrated by a newer release: this one does not know its tables. */
export class StoreFromNewerReleaseError extends Error {
  override name = 'StoreFromNewerReleaseError';
  constructor(
    readonly where: string,
    readonly unknown: readonly string[],
  ) {
    super(
      `the otel-audit store at ${where} was migrated by a newer release (${unknown.join(', ')}): this release ` +
        'does not know its tables; use that release',
    );
  }
}

/**
 * The data directory is held by another process (chDB: one process per directory) and no running serve was
 * found through the state directory: the message says where the CLI looked, since a serve started with
 * another --state-dir writes its serve.json there.
 */
export class ReadDirectoryLockedError extends DataDirectoryLockedError {
  override name = 'ReadDirectoryLockedError';
  constructor(
    path: string,
    /** The serve.json the CLI looked for. */
    readonly discoveryFile: string,
    stateDirGiven: boolean,
    /** `unreachable`: serve.json names a live process whose address did not answer (the cause of the lock). */
    options?: { cause?: unknown; unreachable?: { url: string; pid: number; reason: string } },
  ) {
    super(path, options);
    const down = options?.unreachable;
    if (down !== undefined) {
      this.message +=
        `. ${discoveryFile} names an otel-audit serve (pid ${down.pid}, still running) at ${down.url}, but it ` +
        `cannot be reached there: ${down.reason}`;
      return;
    }
    this.message += stateDirGiven
      ? `. No running otel-audit serve was found through ${discoveryFile}: if serve holds this ` +
        'directory, pass the --state-dir it was started with'
      : '. If it is an `otel-audit serve` started with --state-dir DIR, pass --state-dir DIR too, so that ' +
        'this command finds it (serve.json is in the state directory) and reads through it';
  }
}

/**
 * Something answers at the address serve.json names, but cannot prove it knows serve's token: a serve that was
 * killed left the file, and another process took its port (and maybe its pid). The token is not sent, and the
 * directory is not opened behind the back of whatever holds it.
 */
export class ServeImpostorError extends Error {
  override name = 'ServeImpostorError';
  constructor(
    readonly discoveryFile: string,
    readonly url: string,
    reason: string,
    /** serve.json looks like an earlier release's: that serve may simply predate the proof. */
    earlierRelease = false,
  ) {
    super(
      `${url}, the address in ${discoveryFile}, does not answer as the otel-audit serve that wrote that file ` +
        `(${reason}); the serve token was not sent. ` +
        (earlierRelease
          ? `${discoveryFile} was written by an otel-audit serve of an earlier release, which answers without ` +
            'the proof: restart that serve with this release (stop it, start it again); if it is gone, remove ' +
            discoveryFile
          : `If that serve is gone, remove ${discoveryFile}`),
    );
  }
}
