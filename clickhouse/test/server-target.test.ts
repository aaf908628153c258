// A store on a ClickHouse server URL, where no server is needed: what happens when it cannot be reached.
import { createServer } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AuditStore } from '../src/index.js';

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
