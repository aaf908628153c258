// serve's state directory (tokens, serve.json), checked before the store is opened: a state directory serve cannot
// use, or one a live serve of another store holds, is found before a data directory is created or migrated.
import { accessSync, constants, existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { discoveryPath, processAlive, readDiscovery } from './discovery.js';
import { ReceiverConfigError } from './errors.js';

const OPTION = '--state-dir';

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** The nearest existing ancestor of `path` (or `path` itself): what a failed mkdir ran into. */
function nearestExisting(path: string): string {
  let at = path;
  while (!existsSync(at) && dirname(at) !== at) at = dirname(at);
  return at;
}

/** The outermost directory of `path` that does not exist yet (`path` itself when its parent exists). */
function firstMissing(path: string): string {
  let first = path;
  while (!existsSync(dirname(first)) && dirname(first) !== first) first = dirname(first);
  return first;
}

/**
 * Creates the state directory (0700) if missing; throws a ReceiverConfigError naming it when it is a file, sits
 * under a file, or this user may not write it (root may write any mode: only a read-only file system stops it).
 */
export function prepareStateDir(stateDir: string): void {
  try {
    if (!existsSync(stateDir)) {
      // Node's recursive mkdir never returns where mkdir answers ENOENT under an existing directory (/proc, /sys):
      // the first missing directory is made on its own, so that answer is an error rather than a hang.
      try {
        mkdirSync(firstMissing(resolve(stateDir)), { mode: 0o700 });
      } catch (error) {
        // Made by another process meanwhile (two serves starting at once): the recursive mkdir does the rest.
        if ((error as { code?: string }).code !== 'EEXIST') throw error;
      }
      mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    }
  } catch (error) {
    const code = (error as { code?: string }).code;
    const blocker = nearestExisting(stateDir);
    if ((code === 'EEXIST' || code === 'ENOTDIR') && !isDirectory(blocker))
      throw new ReceiverConfigError(
        OPTION,
        blocker === stateDir
          ? `${stateDir} is a file, not a directory`
          : `${stateDir} cannot be created: ${blocker} is a file, not a directory`,
      );
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS')
      throw new ReceiverConfigError(
        OPTION,
        `${stateDir} cannot be created: ${blocker} is not writable by this user (${code})`,
      );
    if (code === 'ENOENT')
      throw new ReceiverConfigError(
        OPTION,
        `${stateDir} cannot be created: the file system of ${blocker} does not allow new directories (ENOENT)`,
      );
    throw new ReceiverConfigError(OPTION, `${stateDir} cannot be created: ${(error as Error).message}`);
  }
  if (!isDirectory(stateDir)) throw new ReceiverConfigError(OPTION, `${stateDir} is a file, not a directory`);
  refuseShared(stateDir);
  try {
    accessSync(stateDir, constants.W_OK | constants.X_OK);
  } catch (error) {
    throw new ReceiverConfigError(
      OPTION,
      `${stateDir} is not writable by this user (${(error as { code?: string }).code ?? 'access denied'}): ` +
        'serve keeps its tokens, serve.json and its key-repair file there',
    );
  }
}

/**
 * A state directory other users may write (`/tmp`, a group's directory) or own lets them plant serve.token or
 * serve.json before serve starts: they would choose the token. Refused (POSIX only: Windows has no such modes).
 */
function refuseShared(stateDir: string): void {
  const uid = process.geteuid?.();
  if (process.platform === 'win32' || uid === undefined) return;
  const { mode, uid: owner } = statSync(stateDir);
  if ((mode & 0o022) !== 0)
    throw new ReceiverConfigError(
      OPTION,
      `${stateDir} has mode ${(mode & 0o7777).toString(8).padStart(4, '0')}: other users may write it and plant ` +
        `serve's token files; use a directory only you can write (\`chmod go-w ${stateDir}\`, or another --state-dir)`,
    );
  if (owner !== uid)
    throw new ReceiverConfigError(
      OPTION,
      `${stateDir} is owned by uid ${owner}, not this user (uid ${uid}): its owner could plant serve's token ` +
        'files; use a directory of your own',
    );
}

/** What a serve serves, as serve.json tells it: the data directory's real path, or the server and database. */
export interface ServedStore {
  dataDir?: string;
  storeUrl?: string;
  database: string;
}

/** The live serve (named by serve.json) whose state directory another store's serve was given. */
export class StateDirInUseError extends ReceiverConfigError {
  override name = 'StateDirInUseError';
  constructor(
    readonly stateDir: string,
    readonly pid: number,
    readonly other: { dataDir?: string; storeUrl?: string; url: string },
  ) {
    const holds =
      other.dataDir !== undefined
        ? `data directory ${other.dataDir}`
        : other.storeUrl !== undefined
          ? `server ${other.storeUrl}`
          : `listening on ${other.url}`;
    super(
      OPTION,
      `${stateDir} is in use by another running otel-audit serve (pid ${pid}, ${holds}; ${discoveryPath(stateDir)}): ` +
        'starting would replace its serve.json, so the CLI could no longer reach it, and share its tokens; ' +
        'give each serve its own --state-dir',
    );
  }
}

/**
 * A ClickHouse server as one store: origin, path and the client's `?pathname=` (a proxy's path prefix), without
 * credentials or other client settings (`?request_timeout=` names the same server).
 */
export function serverIdentity(url: string): string {
  try {
    const parsed = new URL(url);
    const pathname = parsed.searchParams.get('pathname');
    return `${parsed.origin}${parsed.pathname}${pathname === null ? '' : `?pathname=${pathname}`}`;
  } catch {
    return url;
  }
}

/**
 * Refuses a state directory whose serve.json names a live serve (pid alive and started at processStart, as the
 * CLI decides) of another store, or of the same server store (two serves in front of one server are fine, each
 * with its own state directory: in one they would replace each other's serve.json and key-repair file). One left
 * by a serve that is gone is taken over; one of the same data directory is left to the store's own check (a chDB
 * directory is locked by the serve holding it, and says so).
 */
export function refuseSharedStateDir(stateDir: string, ours: ServedStore): void {
  const running = readDiscovery(stateDir);
  if (running === undefined || !processAlive(running.pid, running.processStart)) return;
  const sameStore =
    ours.dataDir !== undefined
      ? running.dataDir === ours.dataDir
      : running.dataDir === undefined &&
        running.storeUrl !== undefined &&
        ours.storeUrl !== undefined &&
        serverIdentity(running.storeUrl) === serverIdentity(ours.storeUrl) &&
        (running.database ?? 'default') === ours.database;
  // A serve.json without processStart (an earlier release, no /proc) proves no live serve: a crashed serve's,
  // whose pid now belongs to another process, must not stop a restart.
  if (sameStore && (ours.dataDir !== undefined || running.processStart === undefined)) return;
  throw new StateDirInUseError(stateDir, running.pid, {
    url: running.url,
    ...(running.dataDir !== undefined && { dataDir: running.dataDir }),
    ...(running.storeUrl !== undefined && { storeUrl: running.storeUrl }),
  });
}
