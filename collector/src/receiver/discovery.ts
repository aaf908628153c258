// The discovery file: a running `serve` writes its URL into the state directory (the chDB data directory by
// default) so that the CLI's query commands, which cannot open a directory serve holds, go through it instead.
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const DISCOVERY_FILE_NAME = 'serve.json';

export interface ServeDiscovery {
  /** Base URL of the running serve, e.g. `http://127.0.0.1:4318`. */
  url: string;
  pid: number;
  startedAt: string;
  /** File holding the bearer token (absent when the token was given through the environment). */
  tokenFile?: string;
  /** Database serve reads and writes (absent in files written by older versions). */
  database?: string;
  /** Absolute path of the chDB data directory serve holds (absent for a server URL). */
  dataDir?: string;
  /** The ClickHouse server serve writes to, without user or password (absent for a data directory). */
  storeUrl?: string;
  /**
   * When the process started (field 22 of /proc/<pid>/stat, clock ticks since boot; absent where /proc is not):
   * a pid recycled by another process after serve was killed has another start, so the file is known stale.
   */
  processStart?: string;
}

export function discoveryPath(stateDir: string): string {
  return join(stateDir, DISCOVERY_FILE_NAME);
}

/**
 * Written atomically (temp file + rename), readable by the owner only. A failed write (a full disk) removes its
 * temp file and says which file it could not write: Node's `ENOSPC: no space left on device, write` names none.
 */
export function writeDiscovery(stateDir: string, info: ServeDiscovery): string {
  const path = discoveryPath(stateDir);
  const temp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(temp, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
    renameSync(temp, path);
  } catch (error) {
    // Not recursive: a directory of that name is not ours. Its failure must not hide the write's.
    try {
      rmSync(temp, { force: true });
    } catch {}
    throw new Error(`cannot write ${path} (through ${temp}): ${(error as Error).message}`, { cause: error });
  }
  return path;
}

/** The file's content, or undefined when absent or unreadable (a half-written file never exists: rename). */
export function readDiscovery(stateDir: string): ServeDiscovery | undefined {
  const path = discoveryPath(stateDir);
  if (!existsSync(path)) return undefined;
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<ServeDiscovery>;
    if (typeof parsed.url !== 'string' || typeof parsed.pid !== 'number') return undefined;
    return parsed as ServeDiscovery;
  } catch {
    return undefined;
  }
}

/** Removes the file if it still describes process `pid` (a newer serve may have replaced it). */
export function removeDiscovery(stateDir: string, pid: number): void {
  const current = readDiscovery(stateDir);
  if (current === undefined || current.pid === pid) rmSync(discoveryPath(stateDir), { force: true });
}

/** The start time of process `pid` in clock ticks since boot, where /proc tells it (Linux). */
export function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces or ')': fields are counted after the last.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const start = fields[19];
    return start !== undefined && /^\d+$/.test(start) ? start : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether a process with this id exists (EPERM: it exists but belongs to someone else) and, when `startedAt`
 * (see ServeDiscovery.processStart) is given and /proc tells it, is the one that started then.
 */
export function processAlive(pid: number, startedAt?: string): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as { code?: string }).code !== 'EPERM') return false;
  }
  if (startedAt === undefined) return true;
  const now = processStart(pid);
  return now === undefined || now === startedAt;
}
