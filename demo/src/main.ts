// Demo producer (compose service `demo`, or `npm start -w demo`): records a realistic dataset through OTLP/HTTP
// to a collector, prints progress, and exits non-zero if any batch could not be delivered.
//
// Environment: OTEL_EXPORTER_OTLP_ENDPOINT (standard; default http://localhost:4318), OTEL_SERVICE_NAME,
// OTEL_AUDIT_DEMO_EVENTS (default 5000), OTEL_AUDIT_DEMO_SEED (default 42), OTEL_AUDIT_DEMO_WAIT_FOR (a URL
// polled until it answers 2xx, e.g. the collector's health check, before recording).
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider, type LogRecordExporter } from '@opentelemetry/sdk-logs';
import { demoAuditLogger } from './otel-logger.js';
import { recordDemoEvents } from './record.js';

function intEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new Error(`${name} must be a non-negative integer, got "${raw}"`);
  return n;
}

async function waitFor(url: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const response = await fetch(url);
      if (response.ok) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs / 1000}s`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

/** Counts what the exporter delivered and what it gave up on (the batch processor only logs that to diag). */
function countingExporter(inner: LogRecordExporter) {
  const counts = { exported: 0, failed: 0 };
  const exporter: LogRecordExporter = {
    export(records, done) {
      inner.export(records, (result) => {
        if (result.code === ExportResultCode.SUCCESS) counts.exported += records.length;
        else counts.failed += records.length;
        done(result);
      });
    },
    shutdown: () => inner.shutdown(),
    forceFlush: () => inner.forceFlush?.() ?? Promise.resolve(),
  };
  return { exporter, counts };
}

async function main(): Promise<number> {
  const count = intEnv('OTEL_AUDIT_DEMO_EVENTS', 5000);
  const seed = intEnv('OTEL_AUDIT_DEMO_SEED', 42);
  const waitUrl = process.env.OTEL_AUDIT_DEMO_WAIT_FOR;
  if (waitUrl) {
    console.log(`waiting for ${waitUrl} ...`);
    await waitFor(waitUrl);
  }
  const { exporter, counts } = countingExporter(new OTLPLogExporter());
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': process.env.OTEL_SERVICE_NAME ?? 'otel-audit-demo' }),
    // A queue larger than the dataset: the batch processor drops silently when its queue is full.
    processors: [
      new BatchLogRecordProcessor({
        exporter,
        maxQueueSize: Math.max(2048, count + 1),
        maxExportBatchSize: 1000,
        scheduledDelayMillis: 500,
      }),
    ],
  });
  let lastPercent = -1;
  const summary = await recordDemoEvents(
    demoAuditLogger(provider),
    count,
    ({ done, total }) => {
      const percent = total === 0 ? 100 : Math.floor((done / total) * 100);
      if (percent >= lastPercent + 10 || done === total) {
        lastPercent = percent;
        console.log(`recorded ${done}/${total} (${percent}%)`);
      }
    },
    { seed },
  );
  await provider.forceFlush();
  await provider.shutdown();
  console.log(
    `demo: ${summary.recorded} events (${summary.failures} failures) for tenants ${summary.tenants.join(', ')}; ` +
      `exported ${counts.exported}, failed ${counts.failed}`,
  );
  return counts.failed === 0 && counts.exported === summary.recorded ? 0 : 1;
}

process.exitCode = await main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  return 1;
});
