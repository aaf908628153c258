// Shared pieces of the end-to-end tests: the last-hop overlay, the collector's environment and the emitter.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SeverityNumber } from '@opentelemetry/api';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import {
  AUDIT_ATTRIBUTES as A,
  AUDIT_SCOPE_NAME,
  AUDIT_SEVERITY,
  CONVENTIONS_VERSION,
} from '@otel-audit/sdk/conventions';
import { parse } from 'yaml';
import { freePort, SHIPPED_CONFIGS } from '../src/otelcol/index.js';

/** Name of the exporter the overlay puts in place of `clickhouse/audit` (the store is chDB in this process). */
export const LAST_HOP = 'otlp_http/audit_e2e';

/**
 * Writes a config overlay that switches the audit pipeline's last hop from ClickHouse to OTLP/HTTP towards the
 * local receiver, keeping the shipped exporter's queue (persistent, blocking), retry and timeout settings.
 * Merged after the shipped file(s), so what runs is the shipped config plus this one change.
 */
export function writeLastHopOverlay(dir: string): string {
  const shipped = parse(readFileSync(SHIPPED_CONFIGS.gateway, 'utf8')) as {
    exporters: Record<string, Record<string, unknown>>;
  };
  const clickhouse = shipped.exporters['clickhouse/audit'];
  if (!clickhouse) throw new Error('gateway.yaml has no clickhouse/audit exporter');
  const overlay = {
    exporters: {
      [LAST_HOP]: {
        logs_endpoint: '${env:OTEL_AUDIT_E2E_LOGS_URL}',
        headers: { authorization: 'Bearer ${env:OTEL_AUDIT_E2E_TOKEN}' },
        encoding: 'proto',
        compression: 'gzip',
        timeout: clickhouse.timeout,
        sending_queue: clickhouse.sending_queue,
        retry_on_failure: clickhouse.retry_on_failure,
      },
    },
    service: {
      // Several collectors may run at once: no fixed-port metrics endpoint.
      telemetry: { metrics: { level: 'none' } },
      pipelines: { 'logs/audit': { exporters: [LAST_HOP] } },
    },
  };
  const path = join(dir, 'last-hop-overlay.yaml');
  // JSON is YAML: no serializer needed for the collector to read it.
  writeFileSync(path, JSON.stringify(overlay, null, 2));
  return path;
}

export interface CollectorEndpoints {
  env: Record<string, string>;
  otlpHttpUrl: string;
  healthUrl: string;
}

/** Ephemeral loopback ports and a private queue directory for one collector under test. */
export async function collectorEndpoints(
  dir: string,
  logsUrl: string,
  token: string,
): Promise<CollectorEndpoints> {
  const [grpc, http, health] = [await freePort(), await freePort(), await freePort()];
  const queueDir = join(dir, 'queue');
  mkdirSync(queueDir, { recursive: true });
  return {
    env: {
      OTEL_AUDIT_OTLP_GRPC_ENDPOINT: `127.0.0.1:${grpc}`,
      OTEL_AUDIT_OTLP_HTTP_ENDPOINT: `127.0.0.1:${http}`,
      OTEL_AUDIT_HEALTH_ENDPOINT: `127.0.0.1:${health}`,
      OTEL_AUDIT_QUEUE_DIR: queueDir,
      OTEL_AUDIT_E2E_LOGS_URL: logsUrl,
      OTEL_AUDIT_E2E_TOKEN: token,
    },
    otlpHttpUrl: `http://127.0.0.1:${http}`,
    healthUrl: `http://127.0.0.1:${health}/`,
  };
}

export interface TestAuditEvent {
  id: string;
  action: string;
  tenant: string;
  actor: { id: string; type: string; name: string; fields: Record<string, unknown> };
  targets: { type: string; id: string; name?: string; fields?: Record<string, unknown> }[];
  metadata: Record<string, unknown>;
  occurredAt: Date;
}

/** A varied set of audit events: several targets, none, nested metadata, characters JSON must escape. */
export function auditEvents(runId: string, count: number): TestAuditEvent[] {
  return Array.from({ length: count }, (_, i) => ({
    id: crypto.randomUUID(),
    action: i % 2 === 0 ? 'billing.invoice.paid' : 'iam.user.updated',
    tenant: `tenant-${runId}`,
    actor: { id: `user-${i % 3}`, type: 'user', name: `User ${i % 3} "quoted" <&>`, fields: { plan: 'pro' } },
    targets:
      i % 4 === 3
        ? []
        : [
            { type: 'invoice', id: `inv-${runId}-${i}`, name: `Invoice #${i}` },
            { type: 'account', id: `acct-${i % 2}`, fields: { region: 'eu' } },
          ],
    metadata: {
      amount: i * 100 + 0.5,
      currency: 'EUR',
      note: `line\n${i} ✓`,
      tags: ['a', 'b'],
      nested: { i },
    },
    occurredAt: new Date(Date.UTC(2026, 10, 22, 12, 0, i)),
  }));
}

/** Emits audit events as the SDK's conventions describe, plus ordinary logs, through the real OTel JS SDK. */
export async function emit(
  otlpHttpUrl: string,
  events: readonly TestAuditEvent[],
  ordinaryBodies: readonly string[],
): Promise<void> {
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': 'e2e-service' }),
    processors: [
      new BatchLogRecordProcessor({
        exporter: new OTLPLogExporter({ url: `${otlpHttpUrl}/v1/logs` }),
        maxQueueSize: 10_000,
        maxExportBatchSize: 200,
        scheduledDelayMillis: 50,
      }),
    ],
  });
  const audit = provider.getLogger(AUDIT_SCOPE_NAME, CONVENTIONS_VERSION);
  const app = provider.getLogger('e2e-app');
  const ordinary = [...ordinaryBodies];
  for (const event of events) {
    audit.emit({
      eventName: event.action,
      timestamp: event.occurredAt,
      severityNumber: SeverityNumber.INFO,
      severityText: AUDIT_SEVERITY.success.text,
      body: JSON.stringify(event.metadata),
      attributes: {
        [A.eventId]: event.id,
        [A.action]: event.action,
        [A.tenant]: event.tenant,
        [A.actorId]: event.actor.id,
        [A.actorType]: event.actor.type,
        [A.actorName]: event.actor.name,
        [A.actorFields]: JSON.stringify(event.actor.fields),
        [A.targets]: JSON.stringify(event.targets),
        [A.crud]: 'update',
        [A.outcome]: 'success',
        [A.version]: 1,
      },
    });
    // Interleave ordinary logs so both kinds share OTLP requests.
    const body = ordinary.shift();
    if (body !== undefined)
      app.emit({ severityNumber: SeverityNumber.INFO, body, attributes: { 'http.route': '/x' } });
  }
  for (const body of ordinary) app.emit({ severityNumber: SeverityNumber.INFO, body });
  await provider.forceFlush();
  await provider.shutdown();
}
