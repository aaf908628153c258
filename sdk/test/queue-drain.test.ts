// Large records start an export by their bytes, not only by their count or the scheduled delay: with records of a
// few hundred KB the queue reached maxQueueBytes long before 512 records or the delay, and the next records were
// dropped (queue_full) while a working endpoint sat idle. Real OTLP/HTTP exporter, a real endpoint that is up.
import { LoggerProvider } from '@opentelemetry/sdk-logs';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditLogRecordProcessor, AuditOTLPLogExporter } from '../src/node.js';
import { type Capture, capture, eventIds, hookedLogger } from './support.js';

const open: Capture[] = [];
afterEach(async () => {
  for (const e of open.splice(0)) await e.close();
});

async function pipeline(limits: { maxQueueBytes: number; maxExportBatchBytes?: number }) {
  const endpoint = await capture();
  open.push(endpoint);
  const exporter = new AuditOTLPLogExporter({ url: `${endpoint.url}/v1/logs`, timeoutMillis: 1_000 });
  const processor = new AuditLogRecordProcessor({
    exporter,
    ...limits,
    // Far away: only the bytes queued can start an export within the test.
    scheduledDelayMillis: 60_000,
    retryInitialDelayMillis: 60_000,
  });
  const provider = new LoggerProvider({ processors: [processor] });
  return { endpoint, processor, provider, ...hookedLogger(provider) };
}

/** Waits until `done()`, at most 1 s (without the fix nothing is sent that soon: the test then fails on counts). */
async function until(done: () => boolean): Promise<void> {
  for (let waited = 0; !done() && waited < 1_000; waited += 5)
    await new Promise((resolve) => setTimeout(resolve, 5));
}

describe('an export starts when the queued bytes reach a batch', () => {
  it('records of 10 KB past maxQueueBytes in total are all delivered, none dropped, with the delay far away', async () => {
    const { endpoint, processor, provider, audit, drops } = await pipeline({
      maxQueueBytes: 100_000,
      maxExportBatchBytes: 40_000,
    });
    const big = 'x'.repeat(10_000);
    const recorded = [];
    // 50 records (~520 KB), 5 at a time, each group sent before the next: never more than ~100 KB held.
    for (let round = 0; round < 10; round++) {
      for (let i = 0; i < 5; i++)
        recorded.push(audit.record({ action: 'a.b.created', metadata: { round, i, big } }));
      await until(() => processor.stats().held === 0 || drops.length > 0);
    }
    expect(drops).toEqual([]);
    expect(processor.stats()).toMatchObject({ dropped: 0, exported: 50, held: 0 });
    expect(eventIds(endpoint)).toEqual(recorded.map((e) => e.id));
    await provider.shutdown();
  });

  it('with maxQueueBytes under the batch byte limit, an export starts at half the queue bound (a full queue refuses first)', async () => {
    // Default maxExportBatchBytes (4 MiB): only the queue bound can start these exports.
    const { endpoint, processor, provider, audit, drops } = await pipeline({ maxQueueBytes: 100_000 });
    const big = 'x'.repeat(10_000);
    const recorded = [];
    for (let round = 0; round < 10; round++) {
      for (let i = 0; i < 5; i++)
        recorded.push(audit.record({ action: 'a.b.created', metadata: { round, i, big } }));
      await until(() => processor.stats().held === 0 || drops.length > 0);
    }
    expect(drops).toEqual([]);
    expect(processor.stats()).toMatchObject({ dropped: 0, exported: 50, held: 0 });
    expect(eventIds(endpoint)).toEqual(recorded.map((e) => e.id));
    await provider.shutdown();
  });

  it('a record bigger than maxQueueBytes (taken alone) is sent at once, so the next small record is not dropped', async () => {
    // Under the batch byte limit (4 MiB), so only the queue bound can start its export.
    const { endpoint, processor, provider, audit, drops } = await pipeline({ maxQueueBytes: 100_000 });
    const huge = audit.record({ action: 'a.b.created', metadata: { big: 'x'.repeat(300_000) } });
    await until(() => processor.stats().held === 0);
    const small = audit.record({ action: 'a.b.updated' });
    expect(drops).toEqual([]);
    expect(await audit.flush()).toMatchObject({ exported: 2, dropped: 0, pending: 0 });
    expect(eventIds(endpoint)).toEqual([huge.id, small.id]);
    await provider.shutdown();
  });
});
