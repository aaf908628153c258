import { accessSync, existsSync, constants as fsConstants, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import {
  type ClickHouseClient,
  ClickHouseLogLevel,
  type ClickHouseSettings,
  createClient,
} from '@clickhouse/client';
import { sendChangedSettingsOnly } from './chdb-settings.js';
import { directoryLockState, heldByAnotherProcess } from './directory-lock.js';
import {
  AuditStoreInputError,
  ChdbNotInstalledError,
  DataDirectoryAccessError,
  DataDirectoryLockedError,
  OtherDataDirectoryOpenError,
} from './errors.js';
import { displayServerUrl } from './failures.js';
import { quoteDatabase } from './identifiers.js';

/** A ClickHouse server reached over HTTP(S). */
export interface ServerTarget {
  /** e.g. `http://localhost:8123`. */
  url: string;
  username?: string | undefined;
  password?: string | undefined;
  /** Database of the audit tables (default `default`). */
  database?: string | undefined;
  /**
   * How long a request may stay silent before the client gives up (default 30 s, @clickhouse/client's). `migrate`
   * raises it: ON CLUSTER statements and SYSTEM SYNC REPLICA answer only when done, without progress headers.
   */
  requestTimeoutMs?: number | undefined;
}

/**
 * An embedded chDB data directory (`:memory:` for a throwaway in-memory store, once per process). A target
 * holding both `path` and a server's `url` (or its credentials or timeout) is refused, not half-used.
 */
export interface EmbeddedTarget {
  path: string;
  database?: string | undefined;
}

export type StoreTarget = ServerTarget | EmbeddedTarget;

/**
 * Settings sent with EVERY call: chDB keeps per-query settings on the connection, so relying on a default
 * would mean relying on whatever the previous call set.
 */
export const BASE_SETTINGS: ClickHouseSettings = {
  session_timezone: 'UTC',
  output_format_json_quote_64bit_integers: 1,
  date_time_output_format: 'simple',
  do_not_merge_across_partitions_select_final: 1,
  async_insert: 0,
  wait_end_of_query: 1,
  // ReplacingMergeTree would otherwise collapse duplicates inside each inserted block: reads use FINAL anyway,
  // and skipping it makes ingest through the views ~1.7x faster (store bench).
  optimize_on_insert: 0,
  // Views must see every inserted block, also on a server where this might be changed.
  materialized_views_ignore_errors: 0,
  // Inserts of events spanning many months (or days, for a MergeTree otel_logs) must not be refused.
  max_partitions_per_insert_block: '0',
};

type ClientConnection = NonNullable<NonNullable<Parameters<typeof createClient>[0]>['connection']>;

/** chDB's raw insert: the payload bytes go to the engine's own parser, with per-query SETTINGS. */
export type RawInsert = (params: {
  table: string;
  values: Buffer;
  format: 'JSONEachRow' | 'JSONCompactEachRow';
  columns: readonly string[];
  settings: Record<string, string | number | boolean>;
}) => Promise<unknown>;

export interface OpenedClient {
  client: ClickHouseClient;
  database: string;
  /** Back-quoted database name, validated. */
  db: string;
  embeddedPath?: string;
  /** Server only: its URL without credentials, as errors name it. */
  serverUrl?: string;
  /** Embedded only: the raw insert path (the client's insert sends each setting as a SET before it). */
  rawInsert?: RawInsert;
  /**
   * Server only: runs a statement through a connection to `default`. Every request of `client` names the store's
   * database, and a server refuses any request naming one that does not exist (UNKNOWN_DATABASE), `CREATE
   * DATABASE IF NOT EXISTS` included: a first migrate into a new database creates it through this.
   */
  commandOnDefault?: (query: string) => Promise<void>;
}

// Errors reach the caller as thrown errors; the client's own logger would also print each one to the console
// (a 27-line dump per failed request in a CLI).
const CLIENT_LOG = { level: ClickHouseLogLevel.OFF };

/**
 * Whether a target names an embedded directory (`path` given), for callers branching on the kind: `'path' in
 * target` is also true of `{ url, path: undefined }`, which is a server target.
 */
export function isEmbeddedTarget(target: StoreTarget): target is EmbeddedTarget {
  return typeof (target as { path?: unknown }).path === 'string';
}

const SERVER_ONLY = ['url', 'username', 'password', 'requestTimeoutMs'] as const;

/**
 * An http(s) URL without a path: the client takes a path as the database of every request, so one naming
 * another database than `database` split the store across two, and one that does not exist yet could not be
 * created. A proxy's path prefix goes in the client's `?pathname=/prefix` parameter.
 */
function checkServerUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new AuditStoreInputError(
      'url',
      `is not a URL (e.g. http://localhost:8123), got ${JSON.stringify(url.slice(0, 200))}`,
    );
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw new AuditStoreInputError('url', `must be http:// or https://, got ${parsed.protocol}`);
  if (parsed.pathname.length > 1)
    throw new AuditStoreInputError(
      'url',
      `has a path (${parsed.pathname}), which the client would take as the database: give the database as ` +
        '`database` (--database), and a proxy path prefix as ?pathname=/prefix',
    );
  // The client would refuse it as an unknown parameter; it names the database of the store, not of the URL.
  if (parsed.searchParams.has('database'))
    throw new AuditStoreInputError(
      'url',
      'has ?database=: give the database as `database` (--database) instead',
    );
}

/**
 * Which kind of store a target names. Exactly one of `url` and `path`: a config merged from two sources that
 * held both opened the directory and ignored the server (or, with neither, the client's localhost default).
 */
function isEmbedded(target: StoreTarget): target is EmbeddedTarget {
  if (typeof target !== 'object' || target === null)
    throw new AuditStoreInputError(
      'target',
      'must be an object: { url, ... } for a server or { path } for a directory',
    );
  const fields = target as unknown as Record<string, unknown>;
  const given = (key: string) => fields[key] !== undefined;
  if (given('path')) {
    const server = SERVER_ONLY.filter(given);
    if (server.length > 0)
      throw new AuditStoreInputError(
        server[0] === 'url' ? 'url' : server.join(', '),
        server[0] === 'url'
          ? 'give either url (a ClickHouse server) or path (an embedded directory), not both'
          : `${server.length === 1 ? 'is an option' : 'are options'} of a server (url), not of an embedded directory (path)`,
      );
    if (typeof fields.path !== 'string' || fields.path === '')
      throw new AuditStoreInputError('path', 'must be a non-empty string (a directory, or :memory:)');
    return true;
  }
  if (typeof fields.url !== 'string' || fields.url === '')
    throw new AuditStoreInputError(
      'url',
      'is required (a ClickHouse server URL), or give path for an embedded directory',
    );
  return false;
}

/**
 * chDB reports a held directory lock only as "Failed to create connection" (the detail goes to stderr), so
 * that message counts as a lock error when the directory already has a server status file, unless /proc/locks
 * shows nobody holds it: a directory this user may not write failed the same way, and was called locked.
 */
export function isLockError(error: unknown, path: string): boolean {
  const message = error instanceof Error ? `${error.message} ${String(error.cause ?? '')}` : String(error);
  if (/Cannot lock file|already running/i.test(message)) return true;
  return (
    /Failed to create connection/i.test(message) &&
    existsSync(join(path, 'status')) &&
    directoryLockState(path) !== 'free'
  );
}

/**
 * A data directory (or its status file) this user cannot read and write: chDB's own error is a bare "Failed to
 * create connection" (or an errno dump), so it is said here, before chDB opens it.
 */
function checkAccess(path: string): void {
  for (const file of [path, join(path, 'status')]) {
    try {
      accessSync(file, fsConstants.R_OK | fsConstants.W_OK);
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === 'ENOENT') continue; // created by chDB (or the parent's error is chDB's to report)
      throw new DataDirectoryAccessError(path, file, code ?? String(error), { cause: error });
    }
  }
}

/**
 * A missing data directory is created 0700 here, not by chDB (which uses the umask's 0755): the files hold every
 * tenant's events, and whoever can copy them can read them without the query API's token.
 */
function createPrivately(path: string): void {
  if (existsSync(path)) return;
  try {
    // Node's recursive mkdir never returns where mkdir answers ENOENT under an existing directory (/proc, /sys):
    // the first missing directory is made on its own, so that answer is an error rather than a hang.
    mkdirOnce(firstMissing(resolve(path)));
    mkdirSync(path, { recursive: true, mode: 0o700 });
  } catch (error) {
    const code = (error as { code?: string }).code;
    // Anything else is chDB's to report, as before.
    if (code && ['EACCES', 'EPERM', 'EROFS', 'ENOTDIR', 'ENOENT'].includes(code))
      throw new DataDirectoryAccessError(path, path, code, { cause: error });
  }
}

/** mkdir 0700; one another process made meanwhile is fine (the recursive mkdir after it does the rest). */
function mkdirOnce(path: string): void {
  try {
    mkdirSync(path, { mode: 0o700 });
  } catch (error) {
    if ((error as { code?: string }).code !== 'EEXIST') throw error;
  }
}

/** The outermost directory of `path` that does not exist yet (`path` itself when its parent exists). */
function firstMissing(path: string): string {
  let first = path;
  while (!existsSync(dirname(first)) && dirname(first) !== first) first = dirname(first);
  return first;
}

/** chDB's connection module (an optional dependency): ChdbNotInstalledError when it cannot be loaded. */
async function loadChdb(): Promise<typeof import('chdb/connection')> {
  try {
    return await import('chdb/connection');
  } catch (cause) {
    throw new ChdbNotInstalledError({ cause });
  }
}

/**
 * Throws ChdbNotInstalledError when an embedded store could not be opened here: for callers that prepare files of
 * their own before opening one (serve's tokens), so a missing chDB leaves nothing behind.
 */
export async function assertChdbInstalled(): Promise<void> {
  await loadChdb();
}

export async function openClient(target: StoreTarget): Promise<OpenedClient> {
  const embedded = isEmbedded(target);
  const database = target.database ?? 'default';
  const db = quoteDatabase(database);
  if (!embedded) {
    checkServerUrl(target.url);
    const timeout = target.requestTimeoutMs;
    // Node's timers hold at most 2^31 - 1 ms (~24.8 days); a larger value would be cut to 1 ms.
    if (timeout !== undefined && !(Number.isInteger(timeout) && timeout > 0 && timeout <= 2_147_483_647))
      throw new AuditStoreInputError(
        'requestTimeoutMs',
        `must be a whole number of milliseconds 1..2147483647, got ${timeout}`,
      );
    const connect = (name: string) =>
      createClient({
        url: target.url,
        // Left out when not given, so credentials in the URL apply (the client warns when both are set).
        ...(target.username !== undefined && { username: target.username }),
        ...(target.password !== undefined && { password: target.password }),
        ...(target.requestTimeoutMs !== undefined && { request_timeout: target.requestTimeoutMs }),
        database: name,
        clickhouse_settings: BASE_SETTINGS,
        log: CLIENT_LOG,
        // A long migration statement gets progress headers every 10 s (migrations.ts); Node's 16 KB default
        // would end it after ~10 minutes.
        max_response_headers_size: 1024 * 1024,
      });
    let client: ClickHouseClient;
    try {
      client = connect(database);
    } catch (cause) {
      // The client checks the URL's ?parameters (its own settings) as it is created: an unknown or invalid one.
      throw new AuditStoreInputError('url', `is not usable: ${(cause as Error).message}`, { cause });
    }
    const commandOnDefault = async (query: string) => {
      const admin = connect('default');
      try {
        await admin.command({
          query,
          clickhouse_settings: { ...BASE_SETTINGS, distributed_ddl_output_mode: 'none' },
        });
      } finally {
        await admin.close();
      }
    };
    return { client, database, db, commandOnDefault, serverUrl: displayServerUrl(target.url) };
  }
  if (heldByAnotherProcess(target.path)) throw new DataDirectoryLockedError(target.path);
  createPrivately(target.path);
  checkAccess(target.path);
  const { createChdbConnection } = await loadChdb();
  let client: ClickHouseClient | undefined;
  let rawInsert: RawInsert | undefined;
  try {
    // chdb/connection implements the client's Connection interface against its own copy of client-common.
    const chdbConnection = createChdbConnection({ path: target.path });
    rawInsert = (params) => chdbConnection.chdb.rawInsert(params);
    const connection = sendChangedSettingsOnly(chdbConnection) as unknown as ClientConnection;
    client = createClient({ connection, clickhouse_settings: BASE_SETTINGS, log: CLIENT_LOG });
    // Touch the engine now so a locked directory fails here, with a useful message.
    await client.query({ query: 'SELECT 1', format: 'JSONEachRow', clickhouse_settings: BASE_SETTINGS });
  } catch (cause) {
    await client?.close().catch(() => undefined);
    if (isLockError(cause, target.path)) throw new DataDirectoryLockedError(target.path, { cause });
    if (/only one active data directory per process/.test(String((cause as Error | undefined)?.message)))
      throw new OtherDataDirectoryOpenError(target.path, { cause });
    throw cause;
  }
  return { client, database, db, embeddedPath: target.path, ...(rawInsert !== undefined && { rawInsert }) };
}
