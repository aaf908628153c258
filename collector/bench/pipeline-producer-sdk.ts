// The producer side of the pipeline bench through the otel-audit SDK: `createAuditLoggerProvider` (OTLP/HTTP
// exporter behind the SDK's accounting processor) and `createAuditLogger().record()`, as a service would.
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { createAuditLogger } from '@otel-audit/sdk';
import { createAuditLoggerProvider } from '@otel-audit/sdk/node';
import {
  ACTIONS,
  AckTimingExporter,
  BENCH_TENANT,
  type Producer,
  type ProducerOptions,
} from './pipeline-producer.js';

export function createSdkProducer(options: ProducerOptions): Producer {
  const provider = createAuditLoggerProvider({
    serviceName: 'bench-service',
    resourceAttributes: { 'service.instance.id': `i${options.instance}` },
    exporter: new AckTimingExporter(
      new OTLPLogExporter({
        url: options.logsUrl,
        headers: { authorization: `Bearer ${options.token}` },
        timeoutMillis: 60_000,
      }),
      options.listener,
    ),
    processor: {
      maxQueueSize: options.queueSize,
      maxExportBatchSize: options.batchSize,
      scheduledDelayMillis: 50,
      exportTimeoutMillis: 60_000,
    },
  });
  const audit = createAuditLogger({ loggerProvider: provider, tenant: BENCH_TENANT, flushOnExit: false });
  return {
    record(i) {
      const event = audit.record({
        action: ACTIONS[i % ACTIONS.length] as string,
        actor: { id: `user-${i % 5000}`, type: 'user', name: `User ${i % 5000}` },
        targets: [
          { type: 'invoice', id: `inv-${i % 100_000}` },
          { type: 'customer', id: `cus-${i % 2000}` },
        ],
        crud: 'update',
        context: { ip: `10.0.${(i >> 8) & 255}.${i & 255}`, requestId: `req-${i}` },
        metadata: { amount: i % 1000, currency: 'EUR', note: 'pipeline bench' },
      });
      return event.id;
    },
    async flush() {
      await audit.flush();
    },
    async shutdown() {
      await audit.shutdown();
      await provider.shutdown();
    },
    stats: () => audit.stats(),
  };
}
