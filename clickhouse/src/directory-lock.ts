// Whether another process holds a chDB data directory, seen before chDB is asked to open it: chDB writes its own
// "Cannot lock file …/status" exception to stderr before it fails, ahead of the error this package raises.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** /proc/locks names a file as `MAJOR:MINOR:INODE` (hex device numbers), Linux's encoding of st_dev. */
function procLocksId(dev: bigint, ino: bigint): string {
  const major = Number((dev >> 8n) & 0xfffn);
  const minor = Number((dev & 0xffn) | ((dev >> 12n) & 0xfff00n));
  const hex = (n: number) => n.toString(16).padStart(2, '0');
  return `${hex(major)}:${hex(minor)}:${ino}`;
}

/**
 * Who holds the flock ClickHouse takes on `<path>/status` while it has the directory open: another process
 * (`held`), this one (`own`), nobody (`free`), or `unknown` (no status file, no /proc/locks: not Linux).
 */
export function directoryLockState(path: string): 'held' | 'own' | 'free' | 'unknown' {
  let id: string;
  let locks: string;
  try {
    // bigint: inode numbers past 2^53 (overlayfs xino) must compare exactly.
    const status = statSync(join(path, 'status'), { bigint: true });
    id = procLocksId(status.dev, status.ino);
    locks = readFileSync('/proc/locks', 'utf8');
  } catch {
    return 'unknown';
  }
  let own = false;
  for (const line of locks.split('\n')) {
    // "1: FLOCK  ADVISORY  WRITE 6195 fe:00:10372613 0 EOF"
    const fields = line.trim().split(/\s+/);
    if (fields[1] !== 'FLOCK' || fields[5] !== id) continue;
    if (Number(fields[4]) !== process.pid) return 'held';
    own = true;
  }
  return own ? 'own' : 'free';
}

/** True when another process holds the directory; false when it does not or this cannot tell. */
export function heldByAnotherProcess(path: string): boolean {
  return directoryLockState(path) === 'held';
}
