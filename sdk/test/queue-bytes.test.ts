// The processor's queue is bounded by bytes as well as by records: while the endpoint is down, records of a few
// hundred KB each would otherwise fill 16,384 slots and exhaust the heap. Real OTLP/HTTP exporter, a real port.
import { LoggerProvider } from '@opentelemetry/sdk-logs';
import { afterAll, describe, expect, it } from 'vitest';
import { AuditLogRecordProcessor, AuditOTLPLogExporter } from '../src/node.js';
import { DEFAULT_MAX_QUEUE_BYTES } from '../src/processor.js';
import { type Capture, capture, eventIds, hookedLogger } from './support.js';

const endpoints: Capture[] = [];
afterAll(async () => {
  for (const e of endpoints) await e.close();
});

/** A port nothing listens on (yet): capture(port) brings the endpoint up there. */
async function downPort(): Promise<number> {
  const probe = await capture();
  await probe.close();
  return probe.port;
}

function pipeline(port: number, maxQueueBytes?: number) {
  const exporter = new AuditOTLPLogExporter({ url: `http://127.0.0.1:${port}/v1/logs`, timeoutMillis: 200 });
  const processor = new AuditLogRecordProcessor({
    exporter,
    // Only the test's flushes export: no background attempt races them.
    scheduledDelayMillis: 60_000,
    retryInitialDelayMillis: 60_000,
    ...(maxQueueBytes !== undefined && { maxQueueBytes }),
  });
  const provider = new LoggerProvider({ processors: [processor] });
  return { processor, provider, ...hookedLogger(provider) };
}

describe('maxQueueBytes', () => {
  it('drops (queue_full) a record that would take the bytes held over the bound, and takes records again once they left', async () => {
    const port = await downPort();
    const { processor, provider, audit, drops } = pipeline(port, 60_000);
    const big = 'x'.repeat(10_000);
    const recorded = Array.from({ length: 20 }, (_, i) =>
      audit.record({ action: 'a.b.created', metadata: { i, big } }),
    );
    const held = processor.stats();
    // ~10.4 KB each: 5 fit in 60,000 bytes, the other 15 are dropped and named.
    expect(held).toMatchObject({ held: 5, dropped: 15 });
    expect(held.heldBytes).toBeLessThanOrEqual(60_000);
    expect(held.heldBytes + held.heldBytes / 5).toBeGreaterThan(60_000);
    expect(drops.every((d) => d.reason === 'queue_full')).toBe(true);
    expect(drops.flatMap((d) => d.events.map((e) => e.id))).toEqual(recorded.slice(5).map((e) => e.id));
    expect(audit.stats()).toMatchObject({ recorded: 20, dropped: 15, pending: 5 });

    const endpoint = await capture(port);
    endpoints.push(endpoint);
    expect(await audit.flush()).toMatchObject({ exported: 5, pending: 0 });
    expect(processor.stats()).toMatchObject({ held: 0, heldBytes: 0 });
    // The bytes were released: as many fit again.
    const more = Array.from({ length: 5 }, (_, i) =>
      audit.record({ action: 'a.b.updated', metadata: { i, big } }),
    );
    expect(processor.stats()).toMatchObject({ held: 5, dropped: 15 });
    expect(await audit.flush()).toMatchObject({ recorded: 25, exported: 10, dropped: 15, pending: 0 });
    expect(eventIds(endpoint)).toEqual([...recorded.slice(0, 5), ...more].map((e) => e.id));
    await provider.shutdown();
  });

  it(`holds at most ${DEFAULT_MAX_QUEUE_BYTES} bytes by default: 200 events of 500 KB with the endpoint down`, async () => {
    const { processor, provider, audit, drops, errors } = pipeline(await downPort());
    const big = 'x'.repeat(500_000);
    for (let i = 0; i < 200; i++) audit.record({ action: 'a.b.created', metadata: { i, big } });
    const { held, heldBytes, dropped } = processor.stats();
    const each = heldBytes / held;
    expect(heldBytes).toBeLessThanOrEqual(DEFAULT_MAX_QUEUE_BYTES);
    expect(heldBytes + each).toBeGreaterThan(DEFAULT_MAX_QUEUE_BYTES);
    expect(held).toBe(Math.floor(DEFAULT_MAX_QUEUE_BYTES / each));
    expect(dropped).toBe(200 - held);
    expect(drops.reduce((n, d) => n + d.events.length, 0)).toBe(200 - held);
    await provider.shutdown();
    expect(errors.reduce((n, e) => n + e.events.length, 0)).toBe(held);
    expect(processor.stats()).toMatchObject({ held: 0, heldBytes: 0 });
  });

  it('refuses a maxQueueBytes that is not a whole number >= 1 (or Infinity)', () => {
    const exporter = new AuditOTLPLogExporter({ url: 'http://127.0.0.1:9/v1/logs' });
    for (const maxQueueBytes of [0, -1, 1.5, Number.NaN])
      expect(() => new AuditLogRecordProcessor({ exporter, maxQueueBytes })).toThrow(
        expect.objectContaining({ name: 'AuditOptionError', option: 'maxQueueBytes' }),
      );
    expect(
      () => new AuditLogRecordProcessor({ exporter, maxQueueBytes: Number.POSITIVE_INFINITY }),
    ).not.toThrow();
  });
});
