// AuditOTLPLogExporter behaves as the stock OTLPLogExporter where it does not differ on purpose: its
// self-observability metrics go to the configured selfObsMeterProvider.
import { type Counter, createNoopMeter, type Meter, type MeterProvider } from '@opentelemetry/api';
import { LoggerProvider } from '@opentelemetry/sdk-logs';
import { afterEach, describe, expect, it } from 'vitest';
import { createAuditLogger } from '../src/index.js';
import { AuditLogRecordProcessor, AuditOTLPLogExporter } from '../src/node.js';
import { type Capture, capture, eventIds } from './support.js';

/** A MeterProvider that keeps every counter increment (the exporter's, not the code under test). */
function recordingMeterProvider() {
  const added: { meter: string; counter: string; value: number }[] = [];
  const provider: MeterProvider = {
    getMeter(meterName: string): Meter {
      const meter = Object.create(createNoopMeter()) as Meter;
      meter.createCounter = (counter: string) =>
        ({ add: (value: number) => added.push({ meter: meterName, counter, value }) }) as unknown as Counter;
      return meter;
    },
  };
  return { provider, added };
}

let endpoint: Capture | undefined;
afterEach(async () => {
  await endpoint?.close();
  endpoint = undefined;
});

describe('AuditOTLPLogExporter', () => {
  it('passes selfObsMeterProvider through: exported records are counted on it', async () => {
    endpoint = await capture();
    const metrics = recordingMeterProvider();
    const exporter = new AuditOTLPLogExporter({
      url: `${endpoint.url}/v1/logs`,
      selfObsMeterProvider: metrics.provider,
    });
    const provider = new LoggerProvider({ processors: [new AuditLogRecordProcessor({ exporter })] });
    const audit = createAuditLogger({ loggerProvider: provider, tenant: 'acme', flushOnExit: false });
    const events = [audit.record({ action: 'a.b.created' }), audit.record({ action: 'a.b.created' })];
    expect(await audit.flush()).toMatchObject({ exported: 2, pending: 0 });
    expect(eventIds(endpoint)).toEqual(events.map((e) => e.id));
    expect(metrics.added).toContainEqual({
      meter: '@opentelemetry/otlp-exporter',
      counter: 'otel.sdk.exporter.log.exported',
      value: 2,
    });
    await provider.shutdown();
  });
});
