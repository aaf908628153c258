// An embedded data directory that fails to open is called locked only when it is: chDB says "Failed to create
// connection" for a held lock and for a directory this user may not write alike.
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLockError } from '../src/connection.js';
import { directoryLockState } from '../src/directory-lock.js';
import { AuditStore, DataDirectoryAccessError } from '../src/index.js';
import { openTestStore } from './support.js';

const CHDB_FAILURE = new Error('Failed to create connection for path');
/** /proc/locks is readable here (Linux): without it the state is unknown and the old rule applies. */
const LOCKS_VISIBLE = existsSync('/proc/locks') && readFileSync('/proc/locks', 'utf8') !== undefined;

let store: AuditStore;
let dir: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  ({ store, cleanup, dir } = await openTestStore());
});
afterAll(() => cleanup());

describe.runIf(LOCKS_VISIBLE)('isLockError with /proc/locks', () => {
  it('a directory this process holds open: its own lock, so a failure there still reads as locked', () => {
    expect(existsSync(join(dir, 'status'))).toBe(true);
    expect(directoryLockState(dir)).toBe('own');
    expect(isLockError(CHDB_FAILURE, dir)).toBe(true);
  });

  it('a directory nobody holds: the same failure is not called a lock (it was for an unwritable directory)', async () => {
    await store.close();
    // A status file nobody holds: left by a killed process, or in a copied directory.
    writeFileSync(join(dir, 'status'), 'PID: 1\n');
    expect(directoryLockState(dir)).toBe('free');
    expect(isLockError(CHDB_FAILURE, dir)).toBe(false);
    // chDB's own words for a held lock still count.
    expect(isLockError(new Error('Cannot lock file /x/status. Another server instance'), dir)).toBe(true);
  });
});

describe('a data directory that cannot be opened for reading and writing', () => {
  it('a path under a file: said so (ENOTDIR), not blamed on permissions or a lock', async () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    const open = AuditStore.open({ path: join(file, 'sub') });
    await expect(open).rejects.toThrow(DataDirectoryAccessError);
    await expect(AuditStore.open({ path: join(file, 'sub') })).rejects.toThrow(
      `data directory ${join(file, 'sub')} (ENOTDIR): a part of its path is a file, not a directory`,
    );
  });
});

// Linux's /proc answers mkdir with ENOENT, under which Node's recursive mkdir never returns.
describe.runIf(existsSync('/proc/self'))('a data directory a file system will not create', () => {
  it('is refused with ENOENT instead of hanging in mkdir (/proc)', async () => {
    const open = AuditStore.open({ path: '/proc/otel-audit-test/data' });
    await expect(open).rejects.toThrow(DataDirectoryAccessError);
    await expect(AuditStore.open({ path: '/proc/otel-audit-test' })).rejects.toThrow(
      'data directory /proc/otel-audit-test (ENOENT) cannot be created: the file system of its parent directory ' +
        'does not allow new directories',
    );
  });
});

describe('a data directory that does not exist yet', () => {
  it('is created 0700 with its missing parents: its files hold every tenant’s events', async () => {
    await store.close(); // chDB opens one data directory per process
    const fresh = join(dir, 'fresh', 'store');
    const opened = await AuditStore.open({ path: fresh });
    try {
      for (const created of [join(dir, 'fresh'), fresh])
        expect((statSync(created).mode & 0o777).toString(8), created).toBe('700');
    } finally {
      await opened.close();
    }
  });
});
