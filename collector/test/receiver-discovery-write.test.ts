// serve.json is written through a temp file and a rename: a write that fails (a full disk, ENOSPC, which names no
// file) leaves no temp file behind and says which file it could not write. ENOSPC needs a full file system, so
// the write is made to fail another way: serve.json is a directory the rename cannot replace.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DISCOVERY_FILE_NAME, jsonLogger, startServe, writeDiscovery } from '../src/index.js';

const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('a serve.json that cannot be written', () => {
  let dir: string;
  let stateDir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'receiver-discovery-write-'));
    stateDir = join(dir, 'state');
    // A non-empty directory where serve.json goes: the rename onto it fails.
    mkdirSync(join(stateDir, DISCOVERY_FILE_NAME), { recursive: true });
    writeFileSync(join(stateDir, DISCOVERY_FILE_NAME, 'x'), '');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const serveJson = () => join(stateDir, DISCOVERY_FILE_NAME);
  const leftovers = () => readdirSync(stateDir).filter((name) => name.endsWith('.tmp'));

  it('leaves no temp file and names serve.json', () => {
    expect(() =>
      writeDiscovery(stateDir, {
        url: 'http://127.0.0.1:1',
        pid: process.pid,
        startedAt: '2026-01-01T00:00:00Z',
      }),
    ).toThrow(
      new RegExp(
        `^cannot write ${literal(serveJson())} \\(through ${literal(serveJson())}\\.\\d+\\.tmp\\): `,
      ),
    );
    expect(leftovers()).toEqual([]);
  });

  it('fails serve at start the same way, and lets its port and store go', async () => {
    const start = startServe({
      store: { path: join(dir, 'data') },
      stateDir,
      port: 0,
      log: jsonLogger(() => {}),
    });
    await expect(start).rejects.toThrow(new RegExp(`^cannot write ${literal(serveJson())} `));
    expect(leftovers()).toEqual([]);
    expect(existsSync(join(stateDir, DISCOVERY_FILE_NAME, 'x'))).toBe(true);
    // The store was closed: the directory opens again in this process (chDB allows one open directory per process).
    const again = startServe({
      store: { path: join(dir, 'data') },
      stateDir: join(dir, 'other'),
      port: 0,
      log: jsonLogger(() => {}),
    });
    await (await again).close();
  }, 60_000);
});
