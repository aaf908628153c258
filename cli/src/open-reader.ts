// What the read commands (events, event, actor, target, counts, export, status) read from: a running `otel-audit serve` that holds the
// data directory, or the store itself. They never create a store (that is `migrate`'s or `serve`'s job).
import { realpathSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { ParseArgsOptionsConfig } from 'node:util';
import {
  type AuditReads,
  AuditStore,
  DataDirectoryLockedError,
  isEmbeddedTarget,
  type StoreTarget,
} from '@otel-audit/clickhouse';
import {
  discoveryPath,
  processAlive,
  readDiscovery,
  removeDiscovery,
  type ServeDiscovery,
} from '@otel-audit/collector';
import { AUDIT_TABLES } from '@otel-audit/sdk/conventions';
import { type OptionValues, UsageError } from './command.js';
import {
  displayUrl,
  ReadDirectoryLockedError,
  ServeImpostorError,
  StoreFromNewerReleaseError,
  StoreNeedsMigrationError,
  StoreNotFoundError,
  shellWord,
} from './reader-errors.js';
import { RemoteAuditReader, RemoteServeError, SERVE_TOKEN_ENV } from './remote-store.js';
import { askServe, BUSY_HEALTH_TIMEOUT_MS } from './serve-identity.js';
import { ENV, STORE_HELP, STORE_OPTIONS, storeTarget, str } from './store-options.js';

export const READ_OPTIONS = {
  ...STORE_OPTIONS,
  'state-dir': { type: 'string' },
} as const satisfies ParseArgsOptionsConfig;

export const READ_HELP = `${STORE_HELP}
  --state-dir PATH     where a running \`otel-audit serve\` keeps serve.json: the --state-dir serve was started
                       with (default: the data directory, as for serve)

While \`otel-audit serve\` holds the data directory, this command reads through it (found through serve.json);
--database cannot pick another database then (serve reads the one it was started with). Without serve, the
directory must hold a store already: create it with \`otel-audit migrate\` (or start \`otel-audit serve\`).`;

/** What the query commands read from: the store itself, or a running serve that holds it. */
export type AuditReader = AuditReads & Pick<AuditStore, 'close'>;

export interface OpenReaderOptions {
  /**
   * Refuse a store whose migrations are missing, pending or from a newer release (default). `status` turns it
   * off: showing what such a store lacks is its job.
   */
  requireMigrated?: boolean;
}

/** The database asked for, and how (for messages): the flag beats the environment. */
function databaseAsked(values: OptionValues, env: Record<string, string | undefined>) {
  const flag = str(values, 'database');
  if (flag !== undefined) return { name: flag, how: `--database ${flag}` };
  const fromEnv = env[ENV.database];
  return fromEnv ? { name: fromEnv, how: `${ENV.database}=${fromEnv}` } : undefined;
}

/**
 * Reading through serve means reading serve's database. A different one asked for is refused rather than
 * ignored; when serve.json does not say which database serve uses, any database asked for is refused.
 */
function checkDatabase(
  asked: { name: string; how: string } | undefined,
  running: ServeDiscovery,
  dataDir: string,
): void {
  if (asked === undefined) return;
  const served = running.database;
  const stop = `drop it, or stop serve to open ${dataDir} directly`;
  if (typeof served !== 'string')
    throw new UsageError(
      `${asked.how} cannot be combined with a running otel-audit serve (${running.url} holds ${dataDir}): ` +
        `reads go through serve, which reads the database it was started with; ${stop}`,
    );
  if (served !== asked.name)
    throw new UsageError(
      `${asked.how}: the otel-audit serve running at ${running.url} holds ${dataDir} and reads database ` +
        `"${served}"; ${stop}`,
    );
}

/**
 * serve.json says where this command sends the serve token (and which file it reads it from): used only when
 * nobody but its owner could have written it, and that owner is this user or owns the (not shared) state
 * directory, e.g. serve running as a service user. A file others may write, or one in a shared directory owned by
 * someone else, could send the token to any listener.
 */
function discoveryDistrust(stateDir: string): string | undefined {
  const uid = process.getuid?.();
  if (uid === undefined) return undefined;
  const file = statSync(discoveryPath(stateDir));
  const dir = statSync(stateDir);
  const othersMayWrite = (mode: number) => (mode & 0o022) !== 0;
  if (othersMayWrite(file.mode)) return 'it is writable by other users';
  if (file.uid === uid) return undefined;
  if (file.uid !== dir.uid)
    return `it belongs to uid ${file.uid}, not to you or to the owner of its directory`;
  if (othersMayWrite(dir.mode)) return `it belongs to uid ${file.uid}, in a directory others may write to`;
  return undefined;
}

function trustedDiscovery(stateDir: string): boolean {
  return discoveryDistrust(stateDir) === undefined;
}

function requireTrustedDiscovery(stateDir: string): void {
  const why = discoveryDistrust(stateDir);
  if (why === undefined) return;
  throw new Error(
    `not using ${discoveryPath(stateDir)}: ${why}, and it names where this command would send the serve token. ` +
      'Remove it if no serve of yours wrote it, or point --state-dir at the state directory of your serve',
  );
}

/** The directory as serve records it (symlinks resolved); a path that does not exist, as given. */
function realPath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

/** `otel-audit migrate` for this store, as a remedy in messages. */
export function migrateCommand(target: StoreTarget): string {
  const db = target.database !== undefined ? ` --database ${shellWord(target.database)}` : '';
  return !isEmbeddedTarget(target)
    ? `otel-audit migrate --url ${shellWord(displayUrl(target.url))}${db}`
    : `otel-audit migrate --data-dir ${shellWord(target.path)}${db}`;
}

/** The commands that create the store, as a remedy in messages. */
function remedy(target: StoreTarget): string {
  const db = target.database !== undefined ? ` --database ${shellWord(target.database)}` : '';
  if (!isEmbeddedTarget(target)) return `create the tables with \`${migrateCommand(target)}\``;
  const dir = shellWord(target.path);
  return (
    `create it with \`${migrateCommand(target)}\`, or start ` +
    `\`otel-audit serve --data-dir ${dir}${db}\` (it migrates at start)`
  );
}

/** Checked without opening it: chDB would create the directory, or litter one that holds something else. */
function requireStoreDirectory(target: StoreTarget & { path: string }): void {
  const kind = (path: string) => {
    try {
      const stat = statSync(path);
      return stat.isDirectory() ? 'dir' : 'other';
    } catch {
      return 'missing';
    }
  };
  const dir = kind(target.path);
  if (dir === 'missing') {
    // Under a file, migrate could not create it either.
    let above = dirname(resolve(target.path));
    while (kind(above) === 'missing' && dirname(above) !== above) above = dirname(above);
    if (kind(above) === 'other')
      throw new StoreNotFoundError(
        target.path,
        `a part of its path is a file, not a directory (${above})`,
        'give the path of a data directory',
      );
    throw new StoreNotFoundError(target.path, 'the directory does not exist (mistyped?)', remedy(target));
  }
  // No remedy: migrate cannot create a store where a file is (it refused the path too).
  if (dir === 'other')
    throw new StoreNotFoundError(
      target.path,
      'it is not a directory',
      'give the path of a data directory (a new one is created by `otel-audit migrate --data-dir DIR`)',
    );
  // chDB keeps its databases' metadata there; a store that was ever migrated has it.
  if (kind(join(target.path, 'metadata')) !== 'dir')
    throw new StoreNotFoundError(target.path, 'the directory holds no chDB data', remedy(target));
}

const REQUIRED_TABLES: readonly string[] = [
  AUDIT_TABLES.events,
  AUDIT_TABLES.byTarget,
  AUDIT_TABLES.migrations,
];

/**
 * The audit tables must exist in the store's database (else the first read fails with the engine's SQL error),
 * with every migration of this release applied.
 */
async function requireTables(store: AuditStore, target: StoreTarget): Promise<void> {
  const present = await store.query<{ name: string }>(
    'SELECT name FROM system.tables WHERE database = {database:String} AND has({names:Array(String)}, name)',
    { database: store.database, names: REQUIRED_TABLES },
  );
  const where = isEmbeddedTarget(target) ? target.path : displayUrl(target.url);
  if (present.some((p) => p.name === AUDIT_TABLES.migrations)) {
    const { pending, unknown } = await store.migrationStatus();
    if (unknown.length > 0) throw new StoreFromNewerReleaseError(where, unknown);
    if (pending.length > 0) throw new StoreNeedsMigrationError(where, pending, migrateCommand(target));
  }
  if (present.length === REQUIRED_TABLES.length) return;
  const reason =
    present.length === 0
      ? `database "${store.database}" has no audit tables (migrations not applied)`
      : `database "${store.database}" lacks ${REQUIRED_TABLES.filter((t) => !present.some((p) => p.name === t)).join(', ')} (migrations incomplete)`;
  throw new StoreNotFoundError(where, reason, remedy(target));
}

async function openChecked(target: StoreTarget, requireMigrated: boolean): Promise<AuditStore> {
  const store = await AuditStore.open(target);
  try {
    if (requireMigrated) await requireTables(store, target);
    return store;
  } catch (error) {
    await store.close();
    throw error;
  }
}

/**
 * Opens what the query commands read. A data directory held by a running `otel-audit serve` (found through the
 * discovery file serve writes into its state directory: --state-dir, default the data directory) is read through
 * serve's query API; a discovery file left by a serve that is gone is removed and the directory is opened
 * directly. A server URL is always opened directly.
 */
export async function openReader(
  values: OptionValues,
  env: Record<string, string | undefined>,
  { requireMigrated = true }: OpenReaderOptions = {},
): Promise<AuditReader> {
  const target = storeTarget(values, env);
  const stateFlag = str(values, 'state-dir');
  if (!isEmbeddedTarget(target)) {
    if (stateFlag !== undefined)
      throw new UsageError(
        '--state-dir applies to a data directory (--data-dir); a server (--url) is read directly',
      );
    return openChecked(target, requireMigrated);
  }
  const stateDir = stateFlag ?? target.path;
  const running = readDiscovery(stateDir);
  let unreachable: { url: string; pid: number; reason: string } | undefined;
  if (running !== undefined) {
    const alive = processAlive(running.pid, running.processStart);
    if (alive) {
      requireTrustedDiscovery(stateDir);
      const token = RemoteAuditReader.tokenFor(running, env, statSync(discoveryPath(stateDir)).uid);
      // Without a token nothing can be proven, and nothing is sent: a serve that answers is then an error.
      const proofToken = 'token' in token ? token.token : undefined;
      let answer = await askServe(running.url, proofToken, running.pid);
      // Alive, and started when serve.json says: a serve too busy to answer at once, asked again for longer.
      if (answer.kind === 'unreachable' && answer.timedOut === true)
        answer = await askServe(running.url, proofToken, running.pid, BUSY_HEALTH_TIMEOUT_MS);
      // Alive and started when serve.json says (so its port is still its own), answering with a proof made with
      // another token: the token is wrong, not the address. Its serve.json must stay.
      if (
        answer.kind === 'impostor' &&
        answer.noProof !== true &&
        running.processStart !== undefined &&
        'from' in token
      )
        throw new RemoteServeError(
          `otel-audit serve at ${running.url} (pid ${running.pid}) is running but was started with another token ` +
            `than the one from ${token.from}; the token was not sent. ` +
            (token.from === SERVE_TOKEN_ENV
              ? `Set ${SERVE_TOKEN_ENV} to the token serve was started with.`
              : `That file changed after serve started: restart serve, or set ${SERVE_TOKEN_ENV} to its token.`),
        );
      if (answer.kind === 'impostor')
        throw new ServeImpostorError(
          discoveryPath(stateDir),
          running.url,
          answer.reason,
          // Serves of earlier releases answer without the proof, and wrote no processStart into serve.json.
          answer.noProof === true && running.processStart === undefined,
        );
      if (answer.kind === 'answers') {
        if ('error' in token) throw new RemoteServeError(token.error);
        // A state directory shared by several data directories must not send reads to another store.
        if (running.dataDir !== undefined && running.dataDir !== realPath(target.path))
          throw new UsageError(
            `the otel-audit serve found through ${discoveryPath(stateDir)} (${running.url}) holds ` +
              `${running.dataDir}, not ${realPath(target.path)}; give each serve its own --state-dir`,
          );
        checkDatabase(databaseAsked(values, env), running, target.path);
        return new RemoteAuditReader(running.url, token.token);
      }
      unreachable = { url: running.url, pid: running.pid, reason: answer.reason };
    }
    // Left behind by a serve that was killed: nobody serves this directory any more (one of someone else's is
    // left alone: it is not read, only not trusted).
    if (!alive && trustedDiscovery(stateDir)) removeDiscovery(stateDir, running.pid);
  }
  requireStoreDirectory(target);
  try {
    return await openChecked(target, requireMigrated);
  } catch (error) {
    if (error instanceof DataDirectoryLockedError)
      throw new ReadDirectoryLockedError(target.path, discoveryPath(stateDir), stateFlag !== undefined, {
        cause: error,
        ...(unreachable !== undefined && { unreachable }),
      });
    throw error;
  }
}
