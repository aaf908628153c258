// The project's SDK (audit.record() through createAuditLoggerProvider) -> the real collector running gateway.yaml
// (last hop switched to OTLP/HTTP) -> otel-audit serve -> the store: every event as record() returned it, none of
// the service's ordinary logs; and with the collector down while the SDK records, the SDK's counters say exactly
// what it dropped and what it still held arrives once the collector is up.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SeverityNumber } from '@opentelemetry/api';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import type { AuditStore, StoredAuditEvent } from '@otel-audit/clickhouse';
import { type AuditEvent, createAuditLogger } from '@otel-audit/sdk';
import { createAuditLoggerProvider } from '@otel-audit/sdk/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ensureCollector,
  freePort,
  goToolchain,
  type RunningCollector,
  SHIPPED_CONFIGS,
  startCollector,
} from '../src/otelcol/index.js';
import {
  type CollectorEndpoints,
  collectorEndpoints,
  FailureRecordingExporter,
  ReceiverLastHop,
  waitFor,
  writeLastHopOverlay,
} from './e2e-support.js';

const go = goToolchain();
if (!go.available) console.warn(`SKIPPED SDK-through-collector end-to-end tests: ${go.reason}`);

/** Every event of a tenant in the store, by id. */
async function storedEvents(store: AuditStore, tenant: string): Promise<Map<string, StoredAuditEvent>> {
  const found = new Map<string, StoredAuditEvent>();
  let cursor: string | undefined;
  do {
    const page = await store.search({ tenant }, { limit: 1000, ...(cursor && { cursor }) });
    for (const e of page.events) found.set(e.id, e);
    cursor = page.nextCursor;
  } while (cursor);
  return found;
}

describe.skipIf(!go.available)('the SDK through the real collector (gateway.yaml)', () => {
  const token = randomUUID();
  let dir = '';
  let binary = '';
  let lastHop: ReceiverLastHop | undefined;
  let endpoints: CollectorEndpoints | undefined;
  let overlay = '';
  let collector: RunningCollector | undefined;

  const startGateway = async () => {
    if (!endpoints) throw new Error('not set up');
    collector = await startCollector({
      binary,
      configs: [SHIPPED_CONFIGS.gateway, overlay],
      env: endpoints.env,
      healthUrl: endpoints.healthUrl,
    });
  };

  beforeAll(async () => {
    const built = await ensureCollector();
    if (!built.available) throw new Error(`Go is on PATH but the collector was not built: ${built.reason}`);
    binary = built.path;
    dir = mkdtempSync(join(tmpdir(), 'e2e-sdk-collector-'));
    lastHop = new ReceiverLastHop(await freePort(), join(dir, 'chdb'), token);
    await lastHop.start();
    endpoints = await collectorEndpoints(dir, lastHop.logsUrl, token);
    overlay = writeLastHopOverlay(dir, {
      encoding: 'proto',
      retryIntervals: { initial_interval: '100ms', max_interval: '500ms' },
    });
  }, 30 * 60_000);

  afterAll(async () => {
    await collector?.kill();
    await lastHop?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('stores every event as record() returned it, and none of the service ordinary logs', async () => {
    await startGateway();
    if (!endpoints || !lastHop) throw new Error('not set up');
    const url = endpoints.otlpHttpUrl;
    const tenant = `sdk-${randomUUID().slice(0, 8)}`;
    const provider = createAuditLoggerProvider({ serviceName: 'e2e-sdk', endpoint: url });
    const audit = createAuditLogger({ loggerProvider: provider, tenant, flushOnExit: false });
    // The service's own logs: its own provider, to the same collector, as a service sends both.
    const appExporter = new FailureRecordingExporter(new OTLPLogExporter({ url: `${url}/v1/logs` }));
    const appProvider = new LoggerProvider({
      processors: [new BatchLogRecordProcessor({ exporter: appExporter, scheduledDelayMillis: 20 })],
    });
    const app = appProvider.getLogger('e2e-app');
    const recorded: AuditEvent[] = [];
    for (let i = 0; i < 40; i++) {
      recorded.push(
        audit.record({
          action: i % 2 === 0 ? 'billing.invoice.paid' : 'iam.user.updated',
          actor: { id: `user_${i % 5}`, type: 'user', name: `Ada "${i}" <&>`, fields: { i } },
          targets:
            i % 4 === 0
              ? []
              : [
                  { type: 'invoice', id: `inv_${i}`, name: `Invoice ${i}`, fields: { total: i * 100 } },
                  { type: 'account', id: `acct_${i % 3}` },
                ],
          crud: 'update',
          outcome: i % 7 === 0 ? 'failure' : 'success',
          context: { ip: '192.0.2.1', userAgent: 'e2e ✓', requestId: `req-${i}` },
          metadata: { amount: i, nested: { list: [1, null, 'x\u2028y'] }, note: 'line\nbreak' },
          changes: { before: { status: 'open' }, after: { status: 'paid' } },
        }),
      );
      app.emit({ severityNumber: SeverityNumber.INFO, body: `ordinary log ${i} of ${tenant}` });
    }
    const stats = await audit.flush();
    await appProvider.forceFlush();
    await appProvider.shutdown();
    await audit.shutdown();
    await provider.shutdown();
    expect(stats).toMatchObject({ recorded: 40, exported: 40, failed: 0, dropped: 0, pending: 0 });
    // The collector took the ordinary logs too (and serve stores whatever it is sent: see ReceiverLastHop).
    expect(appExporter.failures).toEqual([]);

    const store = lastHop.store;
    await waitFor('the 40 events in the store', async () => (await storedEvents(store, tenant)).size >= 40);
    const stored = await storedEvents(store, tenant);
    expect(stored.size).toBe(40);
    for (const event of recorded) {
      const { receivedAt, serviceName, malformed, traceId, spanId, ...fields } =
        stored.get(event.id) ?? ({} as never);
      expect(malformed, event.id).toEqual([]);
      expect(serviceName).toBe('e2e-sdk');
      expect(fields).toEqual(event);
    }
    // No ordinary log reached the store's raw table either (the gateway keeps audit records only).
    const ordinary = await store.query<{ n: string }>(
      'SELECT count() AS n FROM {db}.otel_logs WHERE Body LIKE {p:String}',
      { p: `ordinary log % of ${tenant}` },
    );
    expect(Number(ordinary[0]?.n)).toBe(0);
  }, 120_000);

  it('collector down while the SDK records: counters say what was dropped, the rest arrives once it is up', async () => {
    await collector?.kill();
    collector = undefined;
    if (!endpoints || !lastHop) throw new Error('not set up');
    const tenant = `down-${randomUUID().slice(0, 8)}`;
    const provider = createAuditLoggerProvider({
      serviceName: 'e2e-sdk-down',
      endpoint: endpoints.otlpHttpUrl,
      timeoutMillis: 2000,
      processor: {
        maxQueueSize: 500,
        maxExportBatchSize: 100,
        scheduledDelayMillis: 20,
        retryInitialDelayMillis: 100,
        retryMaxDelayMillis: 300,
      },
    });
    const audit = createAuditLogger({ loggerProvider: provider, tenant, flushOnExit: false });
    const ids = Array.from(
      { length: 700 },
      (_, i) => audit.record({ action: 'billing.invoice.paid', actor: { id: `u${i % 7}`, type: 'user' } }).id,
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    const whileDown = audit.stats();
    expect(whileDown).toMatchObject({ recorded: 700, exported: 0 });
    expect(whileDown.dropped).toBeGreaterThan(0);
    expect(whileDown.dropped + whileDown.pending).toBe(700);

    await startGateway();
    const final = await audit.flush();
    await audit.shutdown();
    await provider.shutdown();
    expect(final).toMatchObject({ failed: 0, pending: 0, dropped: whileDown.dropped });
    expect(final.exported + final.dropped).toBe(700);

    // The collector acknowledged them (its queue is on disk); the store gets exactly those.
    const store = lastHop.store;
    await waitFor(
      `${final.exported} events in the store`,
      async () => (await storedEvents(store, tenant)).size >= final.exported,
    );
    const stored = await storedEvents(store, tenant);
    expect(stored.size).toBe(final.exported);
    for (const id of stored.keys()) expect(ids).toContain(id);
  }, 120_000);
});
