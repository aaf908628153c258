// serve's state directory is checked before the store is opened: one shared with a live serve of another store
// is refused (its serve.json would be replaced and its tokens shared), one left by a serve that is gone is taken
// over; a state directory that is a file, or under one, and a bad token are refused before a data directory is
// made or migrated.

import { type ChildProcess, spawn } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DISCOVERY_FILE_NAME,
  jsonLogger,
  processStart,
  ReceiverConfigError,
  readDiscovery,
  type ServeOptions,
  StateDirInUseError,
  startServe,
} from '../src/index.js';

const quiet = (logs: string[] = []) => jsonLogger((line) => logs.push(line));
const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Writes a serve.json naming process `pid` (started at `started`) serving data directory `dataDir`. */
function writeServeJson(stateDir: string, pid: number, started: string | undefined, dataDir: string): void {
  writeFileSync(
    join(stateDir, DISCOVERY_FILE_NAME),
    JSON.stringify({
      url: 'http://127.0.0.1:9',
      pid,
      startedAt: '2026-01-01T00:00:00.000Z',
      ...(started !== undefined && { processStart: started }),
      database: 'default',
      dataDir,
    }),
    { mode: 0o600 },
  );
}

// The other serve is another process (chDB opens one data directory per process): one that lives while the test
// runs, named by the serve.json it would have written.
describe('a --state-dir whose serve.json names a live serve of another data directory', () => {
  const dir = mkdtempSync(join(tmpdir(), 'receiver-shared-state-'));
  const stateDir = join(dir, 'state');
  const otherData = join(dir, 'a');
  let other: ChildProcess;
  beforeAll(async () => {
    mkdirSync(stateDir);
    mkdirSync(otherData);
    other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 120000)'], { stdio: 'ignore' });
    await new Promise((resolve, reject) => other.once('spawn', resolve).once('error', reject));
    writeServeJson(stateDir, other.pid as number, processStart(other.pid as number), realpathSync(otherData));
  });
  afterAll(() => {
    other?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses to start before its data directory is made, naming the other serve', async () => {
    const logs: string[] = [];
    const start = startServe({ store: { path: join(dir, 'b') }, stateDir, port: 0, log: quiet(logs) });
    await expect(start).rejects.toThrow(StateDirInUseError);
    await expect(start).rejects.toThrow(
      new RegExp(
        `^--state-dir: ${literal(stateDir)} is in use by another running otel-audit serve \\(pid ${other.pid}, ` +
          `data directory ${literal(realpathSync(otherData))}; ${literal(join(stateDir, DISCOVERY_FILE_NAME))}\\)` +
          '.*give each serve its own --state-dir$',
      ),
    );
    expect(existsSync(join(dir, 'b'))).toBe(false);
    expect(existsSync(join(stateDir, 'serve.token'))).toBe(false);
    expect(logs).toEqual([]);
    // The other one's serve.json is untouched: the CLI still finds it.
    expect(readDiscovery(stateDir)).toMatchObject({ pid: other.pid, dataDir: realpathSync(otherData) });
  });

  it('refuses a serve of a ClickHouse server there too (without connecting to it)', async () => {
    await expect(
      startServe({ store: { url: 'http://127.0.0.1:9' }, stateDir, port: 0, log: quiet() }),
    ).rejects.toThrow(StateDirInUseError);
    expect(readDiscovery(stateDir)?.pid).toBe(other.pid);
  });

  it('takes over the serve.json once that serve is gone, as before', async () => {
    other.kill();
    await new Promise((resolve) =>
      other.exitCode !== null || other.signalCode !== null ? resolve(undefined) : other.once('exit', resolve),
    );
    const serve = await startServe({ store: { path: join(dir, 'b') }, stateDir, port: 0, log: quiet() });
    try {
      expect(readDiscovery(stateDir)).toMatchObject({
        url: serve.url,
        pid: process.pid,
        dataDir: realpathSync(join(dir, 'b')),
      });
    } finally {
      await serve.close();
    }
  }, 60_000);

  it("takes over one whose pid's process started at another time (a recycled pid)", async () => {
    const started = processStart(process.pid);
    expect(started).toBeDefined();
    writeServeJson(stateDir, process.pid, String(Number(started) + 1), realpathSync(otherData));
    const serve = await startServe({ store: { path: join(dir, 'c') }, stateDir, port: 0, log: quiet() });
    try {
      expect(readDiscovery(stateDir)).toMatchObject({
        url: serve.url,
        dataDir: realpathSync(join(dir, 'c')),
      });
    } finally {
      await serve.close();
    }
  }, 60_000);
});

describe('a --state-dir whose serve.json names a serve of the same ClickHouse server', () => {
  const dir = mkdtempSync(join(tmpdir(), 'receiver-same-server-state-'));
  const url = 'http://127.0.0.1:9';
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  /** serve.json of a serve of `url` with this process's pid, alive as far as it can tell. */
  const sameServer = (started: string | undefined) =>
    writeFileSync(
      join(dir, DISCOVERY_FILE_NAME),
      JSON.stringify({
        url: 'http://127.0.0.1:19',
        pid: process.pid,
        startedAt: '2026-01-01T00:00:00.000Z',
        ...(started !== undefined && { processStart: started }),
        database: 'default',
        storeUrl: `${url}/`,
      }),
      { mode: 0o600 },
    );

  it('refuses when it is proven alive (its serve.json and key-repair file would be replaced)', async () => {
    sameServer(processStart(process.pid));
    await expect(
      startServe({ store: { url }, stateDir: dir, port: 0, migrate: false, log: quiet() }),
    ).rejects.toThrow(StateDirInUseError);
  });

  it('takes over one without processStart (an earlier release, or a crashed serve whose pid was reused)', async () => {
    sameServer(undefined);
    // The same server, with a client setting: the same store.
    const serve = await startServe({
      store: { url: `${url}/?request_timeout=60000` },
      stateDir: dir,
      port: 0,
      migrate: false,
      log: quiet(),
    });
    try {
      expect(readDiscovery(dir)?.url).toBe(serve.url);
    } finally {
      await serve.close();
    }
  }, 60_000);
});

describe('a --state-dir serve cannot use', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'receiver-bad-state-'));
    writeFileSync(join(dir, 'file'), 'not a directory');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function refused(options: Partial<ServeOptions>, message: RegExp): Promise<string[]> {
    const logs: string[] = [];
    const start = startServe({ store: { path: join(dir, 'data') }, port: 0, log: quiet(logs), ...options });
    await expect(start).rejects.toThrow(ReceiverConfigError);
    await expect(start).rejects.toThrow(message);
    // Nothing opened, created or migrated.
    expect(existsSync(join(dir, 'data'))).toBe(false);
    expect(logs.filter((l) => l.includes('migration'))).toEqual([]);
    return logs;
  }

  it('is a file', async () => {
    const file = join(dir, 'file');
    await refused(
      { stateDir: file },
      new RegExp(`^--state-dir: ${literal(file)} is a file, not a directory$`),
    );
  });

  it('lies under a file', async () => {
    const file = join(dir, 'file');
    await refused(
      { stateDir: join(file, 'state') },
      new RegExp(
        `^--state-dir: ${literal(join(file, 'state'))} cannot be created: ${literal(file)} is a file, not a directory$`,
      ),
    );
  });

  it.runIf(existsSync('/proc/self'))(
    'cannot be made by its file system (/proc: ENOENT, not a hang)',
    async () => {
      await refused(
        { stateDir: '/proc/otel-audit-test/state' },
        /^--state-dir: \/proc\/otel-audit-test\/state cannot be created: the file system of \/proc does not allow new directories \(ENOENT\)$/,
      );
    },
  );

  it('is the data directory, and that is a file', async () => {
    const file = join(dir, 'file');
    await expect(startServe({ store: { path: file }, port: 0, log: quiet() })).rejects.toThrow(
      new RegExp(`^--state-dir: ${literal(file)} is a file, not a directory$`),
    );
  });

  it('is writable by other users (a shared /tmp-like directory): refused, they could plant the token files', async () => {
    const stateDir = join(dir, 'shared');
    mkdirSync(stateDir);
    chmodSync(stateDir, 0o1777);
    await refused(
      { stateDir },
      new RegExp(`^--state-dir: ${literal(stateDir)} has mode 1777: other users may write it`),
    );
  });

  // Another user's files need root to make here (chown); the CI runs as root.
  const root = process.geteuid?.() === 0;
  it.skipIf(!root)(
    'holds a token file another user owns, or is owned by one: refused (needs root to set up)',
    async () => {
      const owned = join(dir, 'owned');
      mkdirSync(owned, { mode: 0o700 });
      chownSync(owned, 65534, 65534);
      await refused(
        { stateDir: owned },
        new RegExp(`^--state-dir: ${literal(owned)} is owned by uid 65534, not this user \\(uid 0\\)`),
      );
      const stateDir = join(dir, 'planted');
      mkdirSync(stateDir, { mode: 0o700 });
      const tokenFile = join(stateDir, 'serve.token');
      writeFileSync(tokenFile, 'a-token-the-other-user-chose\n', { mode: 0o600 });
      chownSync(tokenFile, 65534, 65534);
      await refused(
        { stateDir },
        new RegExp(`^${literal(tokenFile)}: ${literal(tokenFile)} is owned by uid 65534, not this user`),
      );
    },
  );

  it('holds a token file others may read: refused before the store is opened', async () => {
    const stateDir = join(dir, 'state');
    mkdirSync(stateDir);
    const tokenFile = join(stateDir, 'serve.token');
    writeFileSync(tokenFile, 'a-token-of-sufficient-length\n');
    chmodSync(tokenFile, 0o644);
    await refused({ stateDir }, new RegExp(`^${literal(tokenFile)}: ${literal(tokenFile)} has mode 0644`));
  });
});
