// A store on a ClickHouse server URL, where no server is needed: what happens when it cannot be reached.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AuditStore, AuditStoreInputError, type StoreTarget } from '../src/index.js';

/** A local port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

afterEach(() => vi.restoreAllMocks());

describe('an unreachable server', () => {
  it('fails the call with the socket error and prints nothing itself (the caller reports it)', async () => {
    const printed: unknown[][] = [];
    for (const method of ['error', 'warn', 'info', 'log', 'debug'] as const)
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => void printed.push(args));
    const store = await AuditStore.open({ url: `http://127.0.0.1:${await closedPort()}` });
    try {
      await expect(store.search({ tenant: 'acme' })).rejects.toThrow(/ECONNREFUSED/);
      await expect(store.migrate()).rejects.toThrow(/ECONNREFUSED/);
    } finally {
      await store.close();
    }
    expect(printed).toEqual([]);
  });
});

describe('a target naming both or neither kind of store', () => {
  it('refuses url with path, a server option with path, and neither, before opening anything', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'otel-audit-target-'));
    const path = join(dir, 'data');
    try {
      const refused = async (target: unknown, field: string, message: RegExp) => {
        const error = await AuditStore.open(target as StoreTarget).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(AuditStoreInputError);
        expect(error).toMatchObject({ field });
        expect((error as Error).message).toMatch(message);
      };
      // A config merged from two sources: the directory was opened and the server ignored.
      await refused({ url: 'http://127.0.0.1:1', path }, 'url', /either url .* or path .*, not both/);
      await refused({ path, username: 'u', password: 'p' }, 'username, password', /options of a server/);
      await refused({ path, requestTimeoutMs: 5 }, 'requestTimeoutMs', /is an option of a server/);
      await refused({}, 'url', /is required .* or give path/);
      await refused({ database: 'audit' }, 'url', /is required/);
      await refused({ path: 42 }, 'path', /non-empty string/);
      await refused({ path: '' }, 'path', /non-empty string/);
      await refused(null, 'target', /must be an object/);
      // A path would be the database of every request (another than `database`, or one not yet created).
      await refused({ url: 'http://127.0.0.1:8123/mydb' }, 'url', /has a path \(\/mydb\).*pathname=\/prefix/);
      await refused({ url: 'http://127.0.0.1:8123/?database=x' }, 'url', /\?database=.*--database/);
      // The URL's other ?parameters are the client's settings: one it does not know, or cannot read, is named.
      await refused({ url: 'http://127.0.0.1:8123/?nosuch=1' }, 'url', /is not usable: .*nosuch/);
      await refused({ url: 'http://127.0.0.1:8123/?request_timeout=abc' }, 'url', /is not usable: .*abc/);
      await refused({ url: 'localhost:8123' }, 'url', /must be http:\/\/ or https:\/\//);
      await refused({ url: 'not a url' }, 'url', /is not a URL/);
      // Nothing was created for the refused targets.
      expect(existsSync(path)).toBe(false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('takes undefined as absent (exactOptionalPropertyTypes callers pass env values as they are)', async () => {
    const env: Record<string, string | undefined> = {};
    const store = await AuditStore.open({
      url: `http://127.0.0.1:${await closedPort()}`,
      username: env.CH_USER,
      password: env.CH_PASSWORD,
      database: env.CH_DATABASE,
      requestTimeoutMs: undefined,
      path: undefined,
    } as StoreTarget);
    // A proxy's path prefix goes in the client's pathname parameter: accepted.
    await (await AuditStore.open({ url: 'http://127.0.0.1:1/?pathname=/clickhouse' })).close();
    try {
      expect(store.database).toBe('default');
      await expect(store.search({ tenant: 'acme', actions: undefined, from: undefined })).rejects.toThrow(
        /ECONNREFUSED/,
      );
    } finally {
      await store.close();
    }
  });
});
