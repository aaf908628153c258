// The CLI reading through serve when serve cuts an answer (it was stopping, or the reader stalled): the body
// ends short of its content-length and fetch says only "terminated"; the CLI must say what happened.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RemoteAuditReader, RemoteServeError } from '../src/remote-store.js';

describe('an answer serve cut off', () => {
  let server: Server;
  let url: string;
  beforeAll(async () => {
    // Announces 100,000 bytes of JSON, sends 20, then cuts the connection (as serve's destroy() does).
    server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100000' });
      res.write('{"events":[{"id":"x"');
      setTimeout(() => res.destroy(), 20);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('is named for pages, counts and status, with what to do', async () => {
    const reader = new RemoteAuditReader(url, 't'.repeat(32));
    for (const call of [
      () => reader.search({ tenant: 'acme' }),
      () => reader.countByAction({ tenant: 'acme' }),
      () => reader.countOverTime({ tenant: 'acme' }),
      () => reader.status(),
    ]) {
      const error = await call().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RemoteServeError);
      expect((error as Error).message).toMatch(
        /^the answer from otel-audit serve at http:\/\/127\.0\.0\.1:\d+ was cut off: terminated.*: run the command again$/,
      );
    }
  });
});
