// serve answers at most --max-concurrent-queries query API requests at once (each holds its answer in memory and
// shares the engine with ingest): one more gets 429 + Retry-After, ingest goes on, and the CLI reading through
// serve waits its turn instead of failing.
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jsonLogger, type RunningServe, startServe } from '@otel-audit/collector';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RemoteAuditReader } from '../src/remote-store.js';

const TOKEN = 'query-limit-test-token-0123456789';

/** A query API request whose form body never comes: it holds a query slot until the socket closes. */
async function heldQuery(port: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  socket.write(
    'POST /v1/audit/events HTTP/1.1\r\nHost: 127.0.0.1\r\n' +
      `Authorization: Bearer ${TOKEN}\r\ncontent-type: application/x-www-form-urlencoded\r\n` +
      'Content-Length: 64\r\n\r\n',
  );
  return socket;
}

async function until(what: string, done: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('serve over --max-concurrent-queries', () => {
  const dir = mkdtempSync(join(tmpdir(), 'query-limit-'));
  let serve: RunningServe;
  beforeAll(async () => {
    serve = await startServe({
      store: { path: join(dir, 'data') },
      port: 0,
      token: TOKEN,
      ingestAuth: 'none',
      limits: { maxConcurrentQueries: 2, retryAfterSeconds: 1 },
      log: jsonLogger(() => undefined),
    });
  }, 60_000);
  afterAll(async () => {
    await serve?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers one more 429 with Retry-After, keeps ingesting, and the CLI reads once a slot frees', async () => {
    const held = [await heldQuery(serve.port), await heldQuery(serve.port)];
    try {
      await until('two queries in progress', () => serve.server.stats().queriesInFlight === 2);
      const refused = await fetch(`${serve.url}/v1/audit/events?tenant=acme`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).toBe('1');
      expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(
        /2 query requests are in progress, the most serve answers at once \(--max-concurrent-queries\)/,
      );
      const health = (await (await fetch(`${serve.url}/health`)).json()) as { queryBusy: number };
      expect(health.queryBusy).toBe(1);
      // Ingest is not held back by queries.
      const ingest = await fetch(`${serve.url}/v1/logs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ resourceLogs: [] }),
      });
      expect(ingest.status).toBe(200);

      // The CLI's reader is answered 429 until a slot frees, then reads.
      const reader = new RemoteAuditReader(serve.url, TOKEN);
      const page = reader.search({ tenant: 'acme' });
      await until('the reader refused at least once', () => serve.server.stats().queryBusy >= 2);
      held[0]?.destroy();
      expect((await page).events).toEqual([]);
    } finally {
      for (const socket of held) socket.destroy();
    }
  }, 60_000);
});
