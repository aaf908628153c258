// How many export attempts flush() and shutdown() make with the endpoint not answering: each attempt waits out
// the exporter's timeoutMillis, so an attempt right after a failed one doubled the time a flush or the SIGTERM
// sequence (audit.shutdown(), then provider.shutdown()) took. Real OTLP exporter; the endpoint takes each request
// and never answers, so every request it counts is one attempt.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createAuditLoggerProvider } from '../src/node.js';
import { heldEndpoint, hookedLogger } from './support.js';

const open: { close: () => Promise<void> }[] = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const e of open.splice(0)) await e.close();
});

async function setup() {
  const endpoint = await heldEndpoint();
  open.push(endpoint);
  const provider = createAuditLoggerProvider({
    endpoint: endpoint.url,
    timeoutMillis: 300,
    processor: { scheduledDelayMillis: 0, retryInitialDelayMillis: 5_000 },
  });
  return { endpoint, provider, ...hookedLogger(provider) };
}

const realSetTimeout = globalThis.setTimeout;

/** Waits in real time (I/O goes on, also under simulated timers) until `done()`, at most 2 s. */
async function until(done: () => boolean): Promise<void> {
  for (let waited = 0; !done() && waited < 2_000; waited += 5)
    await new Promise((resolve) => realSetTimeout(resolve, 5));
}

describe('export attempts of flush and shutdown', () => {
  it('a flush during an export in flight makes no second attempt when that one fails', async () => {
    const { endpoint, provider, audit } = await setup();
    audit.record({ action: 'a.b.created' });
    await until(() => endpoint.received === 1); // the scheduled export is in flight
    expect(await audit.flush()).toMatchObject({ exported: 0, pending: 1 });
    expect(endpoint.received).toBe(1);
    await provider.shutdown();
  });

  it('provider.shutdown() right after a failed flush (audit.shutdown()) fails what is held without another attempt', async () => {
    const { endpoint, provider, audit, errors } = await setup();
    const event = audit.record({ action: 'a.b.created' });
    await until(() => endpoint.received === 1);
    await audit.shutdown(); // waits for the export in flight, which fails
    expect(endpoint.received).toBe(1);
    await provider.shutdown();
    expect(endpoint.received).toBe(1);
    expect(audit.stats()).toMatchObject({ recorded: 1, failed: 1, pending: 0 });
    expect(errors.map((e) => e.events.map((x) => x.id))).toEqual([[event.id]]);
    expect(errors[0]?.error.message).toMatch(
      /^undelivered at shutdown.*last export error: Request timed out/,
    );
  });

  it('shutdown() retryInitialDelayMillis or more after the last failure tries once more (the endpoint may be back)', async () => {
    const endpoint = await heldEndpoint();
    open.push(endpoint);
    // The processor's timers and clock are simulated (backoff timers fire only when the test says); the
    // exporter's request timeout is Node's own.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const provider = createAuditLoggerProvider({
      endpoint: endpoint.url,
      timeoutMillis: 100,
      processor: { scheduledDelayMillis: 0, retryInitialDelayMillis: 1_000 },
    });
    const { audit } = hookedLogger(provider);
    audit.record({ action: 'a.b.created' });
    await vi.advanceTimersByTimeAsync(1);
    await until(() => endpoint.received === 1);
    await audit.flush(); // the export in flight fails: backoff 1 s, then 2 s
    await vi.advanceTimersByTimeAsync(1_000); // the retry
    await until(() => endpoint.received === 2);
    await audit.flush(); // waits for the retry, which fails too
    expect(endpoint.received).toBe(2);
    await vi.advanceTimersByTimeAsync(1_500); // past 1 s since that failure, before the next retry (2 s)
    expect(endpoint.received).toBe(2);
    await provider.shutdown();
    expect(endpoint.received).toBe(3);
  });
});

/**
 * An OTLP/HTTP endpoint that answers its first request HTTP 500 after `delayMs` (a fast failure: what
 * `otel-audit serve` answers for a store error) and every later one 200 at once; counts records it took.
 */
async function failingOnceEndpoint(delayMs: number) {
  const state = { requests: 0, records: 0 };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      state.requests += 1;
      if (state.requests === 1) {
        setTimeout(() => res.writeHead(500).end('store unavailable'), delayMs);
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString()) as {
        resourceLogs: { scopeLogs: { logRecords: unknown[] }[] }[];
      };
      for (const rl of body.resourceLogs)
        for (const sl of rl.scopeLogs) state.records += sl.logRecords.length;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  open.push({ close });
  return Object.assign(state, { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
}

describe('after a fast failure (HTTP 500) flush and shutdown still make their attempt', () => {
  function fastSetup(url: string) {
    // timeoutMillis 300: a failure within 150 ms is fast; retryInitialDelayMillis far above it.
    const provider = createAuditLoggerProvider({
      endpoint: url,
      timeoutMillis: 300,
      processor: { scheduledDelayMillis: 0, maxExportBatchSize: 100, retryInitialDelayMillis: 5_000 },
    });
    return { provider, ...hookedLogger(provider) };
  }

  it('await audit.shutdown(); await provider.shutdown(): the first batch got a 500, then everything is delivered', async () => {
    const endpoint = await failingOnceEndpoint(0);
    const { provider, audit, errors } = fastSetup(endpoint.url);
    for (let i = 0; i < 500; i++) audit.record({ action: 'a.b.created', metadata: { i } });
    await audit.shutdown(); // its flush stops at the first batch, refused with the 500
    expect(endpoint.requests).toBe(1);
    await provider.shutdown(); // one more attempt: the endpoint takes all 5 batches
    expect(endpoint).toMatchObject({ requests: 6, records: 500 });
    expect(audit.stats()).toMatchObject({ recorded: 500, exported: 500, failed: 0, pending: 0 });
    expect(errors).toEqual([]);
  });

  it('a flush during an export in flight that then fails fast makes its own attempt', async () => {
    const endpoint = await failingOnceEndpoint(50);
    const { provider, audit } = fastSetup(endpoint.url);
    audit.record({ action: 'a.b.created' });
    await until(() => endpoint.requests === 1); // the scheduled export is in flight; answered 500 in 50 ms
    expect(await audit.flush()).toMatchObject({ exported: 1, pending: 0 });
    expect(endpoint).toMatchObject({ requests: 2, records: 1 });
    await provider.shutdown();
  });
});
