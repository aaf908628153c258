// A serverless instance frozen between invocations (no timers, no I/O) past the endpoint's keep-alive idle time:
// the exporter's agent still holds the connection the endpoint closed, and the next flush's request on it fails at
// once ("socket hang up"). flush() must still deliver, not leave the events for a later invocation.
import { createServer } from 'node:net';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { createAuditLoggerProvider } from '../src/node.js';
import { hookedLogger } from './support.js';

/** An OTLP endpoint on its own thread (it runs while this one is blocked) closing idle connections after 2 s. */
async function keepAliveEndpoint(): Promise<{
  url: string;
  requests: () => Promise<number>;
  close: () => Promise<void>;
}> {
  const worker = new Worker(
    `
    const { createServer } = require('node:http');
    const { parentPort } = require('node:worker_threads');
    let requests = 0;
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => { requests += 1; res.writeHead(200, { 'content-type': 'application/json' }).end('{}'); });
    });
    server.keepAliveTimeout = 2000;
    server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port));
    parentPort.on('message', () => parentPort.postMessage(requests));
    `,
    { eval: true },
  );
  const port = await new Promise<number>((resolve) => worker.once('message', resolve));
  return {
    url: `http://127.0.0.1:${port}`,
    requests: () =>
      new Promise<number>((resolve) => {
        worker.once('message', resolve);
        worker.postMessage('count');
      }),
    close: async () => {
      await worker.terminate();
    },
  };
}

const open: { close: () => Promise<void> }[] = [];
afterEach(async () => {
  for (const e of open.splice(0)) await e.close();
});

describe('a flush on a connection the endpoint closed while this process was frozen', () => {
  it('delivers at once, on a new connection', async () => {
    const endpoint = await keepAliveEndpoint();
    open.push(endpoint);
    // A short timeout, as a function with a deadline of a few seconds sets: the exporter's own retry (after ~1 s)
    // does not fit in it.
    const provider = createAuditLoggerProvider({
      endpoint: endpoint.url,
      timeoutMillis: 600,
      processor: { scheduledDelayMillis: 60_000, retryInitialDelayMillis: 5_000 },
    });
    const { audit } = hookedLogger(provider);
    try {
      audit.record({ action: 'a.b.created' });
      expect(await audit.flush()).toMatchObject({ exported: 1, pending: 0 });
      // Frozen past the endpoint's keep-alive (this thread neither runs timers nor reads sockets meanwhile).
      const until = Date.now() + 3500;
      while (Date.now() < until);
      audit.record({ action: 'a.b.created' });
      const started = performance.now();
      expect(await audit.flush()).toMatchObject({ exported: 2, pending: 0 });
      // Not after the exporter's own retry (~1 s later): at once.
      expect(performance.now() - started).toBeLessThan(500);
      expect(await endpoint.requests()).toBe(2);
    } finally {
      await provider.shutdown();
    }
  });
});

describe('a flush against an endpoint that resets every connection', () => {
  // 3 s: long enough for the exporter's own retries (backoff from 1 s), so the attempt fails slowly.
  it('takes about one timeoutMillis, not two (no second attempt after the exporter retried until its timeout)', async () => {
    const server = createServer((socket) => socket.resetAndDestroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    open.push({ close: () => new Promise<void>((resolve) => server.close(() => resolve())) });
    const { port } = server.address() as { port: number };
    const provider = createAuditLoggerProvider({
      endpoint: `http://127.0.0.1:${port}`,
      timeoutMillis: 3000,
      processor: { scheduledDelayMillis: 60_000, retryInitialDelayMillis: 5_000 },
    });
    const { audit } = hookedLogger(provider);
    try {
      audit.record({ action: 'a.b.created' });
      const started = performance.now();
      expect(await audit.flush()).toMatchObject({ pending: 1 });
      expect(performance.now() - started).toBeLessThan(4_500);
    } finally {
      await provider.shutdown();
    }
  });
});
