// Demo producer (compose service `demo`, or `npm start -w demo`): records a realistic dataset through OTLP/HTTP
// to a collector, prints progress, and exits non-zero if any batch could not be delivered.
//
// Environment: OTEL_EXPORTER_OTLP_ENDPOINT (standard; default http://localhost:4318), OTEL_EXPORTER_OTLP_HEADERS
// (standard; `Authorization=Bearer%20<token>` for otel-audit serve), OTEL_SERVICE_NAME,
// OTEL_AUDIT_DEMO_EVENTS (default 5000), OTEL_AUDIT_DEMO_SEED (default 42), OTEL_AUDIT_DEMO_WAIT_FOR (a URL
// polled until it answers 2xx, e.g. the collector's health check, before recording).
import { createAuditLogger } from '@otel-audit/sdk';
import { createAuditLoggerProvider } from '@otel-audit/sdk/node';
import { intEnv } from './env.js';
import { describeExportError } from './export-error.js';
import { recordDemoEvents } from './record.js';

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

async function main(): Promise<number> {
  const count = intEnv('OTEL_AUDIT_DEMO_EVENTS', 5000);
  const seed = intEnv('OTEL_AUDIT_DEMO_SEED', 42);
  const waitUrl = process.env.OTEL_AUDIT_DEMO_WAIT_FOR;
  if (waitUrl) {
    console.log(`waiting for ${waitUrl} ...`);
    await waitFor(waitUrl);
  }
  // Endpoint from the standard OTEL_EXPORTER_OTLP_* variables; a queue larger than the dataset, so the demo
  // never drops (the SDK would count it if it did).
  const provider = createAuditLoggerProvider({
    serviceName: process.env.OTEL_SERVICE_NAME ?? 'otel-audit-demo',
    processor: {
      maxQueueSize: Math.max(2048, count + 1),
      // Nor by bytes: a large OTEL_AUDIT_DEMO_EVENTS outpaces the export (the dataset is bounded by its count).
      maxQueueBytes: Number.POSITIVE_INFINITY,
      maxExportBatchSize: 1000,
      scheduledDelayMillis: 500,
    },
  });
  // The first failure says why (a 401 from serve without its token, a refused connection); later ones repeat it.
  let firstError: Error | undefined;
  let failedEvents = 0;
  const audit = createAuditLogger({
    loggerProvider: provider,
    strictActions: true,
    onError: (error, events) => {
      firstError ??= error;
      failedEvents += events.length;
    },
  });
  let lastPercent = -1;
  const summary = await recordDemoEvents(
    audit,
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
  await audit.shutdown();
  await provider.shutdown();
  // Read after the provider's shutdown: records it gave up on there are counted as failed only then.
  const stats = audit.stats();
  console.log(
    `demo: ${summary.recorded} events (${summary.failures} with outcome failure) for tenants ${summary.tenants.join(', ')}; ` +
      `exported ${stats.exported}, dropped ${stats.dropped}, failed ${stats.failed}, still pending ${stats.pending}`,
  );
  if (firstError !== undefined)
    console.error(
      `demo: ${failedEvents} events failed to export; first error: ${describeExportError(firstError)}`,
    );
  return stats.exported === summary.recorded ? 0 : 1;
}

process.exitCode = await main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  return 1;
});
