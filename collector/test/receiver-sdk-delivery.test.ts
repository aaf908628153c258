// The SDK against serve being down, then back: the SDK's counters say exactly what it dropped, and what it
// still held arrives once serve is up; the store then holds exactly the events the SDK says were exported.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAuditLogger } from '@otel-audit/sdk';
import { createAuditLoggerProvider } from '@otel-audit/sdk/node';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../src/otelcol/index.js';
import { jsonLogger, type RunningServe, startServe } from '../src/receiver/index.js';

const dir = mkdtempSync(join(tmpdir(), 'receiver-sdk-'));
let serve: RunningServe | undefined;
afterAll(async () => {
  await serve?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('SDK -> serve down, then up', () => {
  it('delivers everything the SDK held, and its counters match the store exactly', async () => {
    const port = await freePort();
    const token = 'sdk-delivery-test-token-0123456789';
    const provider = createAuditLoggerProvider({
      serviceName: 'sdk-delivery',
      endpoint: `http://127.0.0.1:${port}`,
      headers: { authorization: `Bearer ${token}` },
      // Long enough for serve's first insert on a loaded machine (2 s timed out under a parallel run, and the flush,
      // which makes one attempt, returned with all 500 still held). The down phase fails fast (refused) anyway.
      timeoutMillis: 10_000,
      processor: {
        maxQueueSize: 500,
        maxExportBatchSize: 100,
        scheduledDelayMillis: 20,
        retryInitialDelayMillis: 100,
        retryMaxDelayMillis: 300,
      },
    });
    const audit = createAuditLogger({ loggerProvider: provider, tenant: 'sdk', flushOnExit: false });
    // serve is down: the SDK keeps what fits in its queue and counts the rest as dropped.
    const ids = Array.from(
      { length: 700 },
      (_, i) => audit.record({ action: 'billing.invoice.paid', actor: { id: `u${i % 7}`, type: 'user' } }).id,
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    const whileDown = audit.stats();
    expect(whileDown.recorded).toBe(700);
    expect(whileDown.exported).toBe(0);
    expect(whileDown.dropped).toBeGreaterThan(0);
    expect(whileDown.dropped + whileDown.pending).toBe(700);

    serve = await startServe({
      store: { path: join(dir, 'data') },
      port,
      token,
      log: jsonLogger(() => undefined),
    });
    const final = await audit.flush();
    await audit.shutdown();
    await provider.shutdown();
    expect(final.failed).toBe(0);
    expect(final.pending).toBe(0);
    expect(final.exported + final.dropped).toBe(700);
    expect(final.dropped).toBe(whileDown.dropped);

    const stored = new Set<string>();
    let cursor: string | undefined;
    do {
      const page = await serve.store.search({ tenant: 'sdk' }, { limit: 1000, ...(cursor && { cursor }) });
      for (const e of page.events) stored.add(e.id);
      cursor = page.nextCursor;
    } while (cursor);
    expect(stored.size).toBe(final.exported);
    for (const id of stored) expect(ids).toContain(id);
  }, 60_000);
});
