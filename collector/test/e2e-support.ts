// Shared pieces of the end-to-end tests: the last-hop overlay, the collector's environment, the emitter, and
// the last hop itself: `otel-audit serve` (the local receiver) on a chDB directory, read back from the store.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SeverityNumber } from '@opentelemetry/api';
import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchLogRecordProcessor,
  LoggerProvider,
  type LogRecordExporter,
  type ReadableLogRecord,
} from '@opentelemetry/sdk-logs';
import type { AuditStore } from '@otel-audit/clickhouse';
import {
  AUDIT_ATTRIBUTES as A,
  AUDIT_SCOPE_NAME,
  AUDIT_SEVERITY,
  AUDIT_TABLES,
  CONVENTIONS_VERSION,
} from '@otel-audit/sdk/conventions';
import { expect } from 'vitest';
import { parse } from 'yaml';
import { freePort, SHIPPED_CONFIGS } from '../src/otelcol/index.js';
import { jsonLogger, type RunningServe, startServe } from '../src/receiver/index.js';

/** Name of the exporter the overlay puts in place of `clickhouse/audit` (the store is chDB in this process). */
export const LAST_HOP = 'otlp_http/audit_e2e';

/**
 * Writes a config overlay that switches the audit pipeline's last hop from ClickHouse to OTLP/HTTP towards the
 * local receiver, keeping the shipped exporter's queue (persistent, blocking), retry and timeout settings.
 * Merged after the shipped file(s), so what runs is the shipped config plus this one change.
 */
export interface LastHopOptions {
  /** `proto` (the default of Go exporters) or `json`; the local receiver takes both. */
  encoding: 'json' | 'proto';
  /** The exporter's compression: gzip (the documented default) or zstd; serve takes both. */
  compression?: 'gzip' | 'zstd';
  /**
   * Shorter retry intervals than the shipped 1 s..30 s, so a test does not wait out a long backoff after the
   * last hop comes back. `max_elapsed_time` (never give up) stays the shipped value.
   */
  retryIntervals?: { initial_interval: string; max_interval: string };
  /**
   * Read the token from this file with the collector's `${file:...}` (serve's generated token files end in no
   * newline, so the header matches) instead of the `OTEL_AUDIT_E2E_TOKEN` variable.
   */
  tokenFile?: string;
}

/** The batch collector/README.md gives an exporter that sends to serve (bytes of protobuf, under its limit). */
export const SERVE_BATCH = { sizer: 'bytes', flush_timeout: '1s', min_size: 1_048_576, max_size: 8_388_608 };

export function writeLastHopOverlay(dir: string, options: LastHopOptions): string {
  const shipped = parse(readFileSync(SHIPPED_CONFIGS.gateway, 'utf8')) as {
    exporters: Record<string, Record<string, unknown>>;
  };
  const clickhouse = shipped.exporters['clickhouse/audit'];
  if (!clickhouse) throw new Error('gateway.yaml has no clickhouse/audit exporter');
  const overlay = {
    exporters: {
      [LAST_HOP]: {
        logs_endpoint: envRef('OTEL_AUDIT_E2E_LOGS_URL'),
        headers: {
          authorization: `Bearer ${options.tokenFile ? `\${file:${options.tokenFile}}` : envRef('OTEL_AUDIT_E2E_TOKEN')}`,
        },
        encoding: options.encoding,
        compression: options.compression ?? 'gzip',
        timeout: clickhouse.timeout,
        // serve refuses a body over --max-body-bytes (16 MiB) with a 413, which an OTel exporter never retries:
        // batches towards it are sized in bytes, as collector/README.md tells a collector in front of serve.
        sending_queue: { ...(clickhouse.sending_queue as object), batch: SERVE_BATCH },
        retry_on_failure: { ...(clickhouse.retry_on_failure as object), ...options.retryIntervals },
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

/** A collector config reference to an environment variable, resolved by the collector at start-up. */
function envRef(name: string): string {
  return `\${env:${name}}`;
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

/** The SDK drops a failed batch with only a diag message: this exporter remembers failures so a test can fail. */
export class FailureRecordingExporter implements LogRecordExporter {
  readonly failures: string[] = [];
  constructor(private readonly inner: LogRecordExporter) {}
  export(logs: ReadableLogRecord[], done: (result: ExportResult) => void): void {
    this.inner.export(logs, (result) => {
      if (result.code !== ExportResultCode.SUCCESS)
        this.failures.push(String(result.error ?? 'export failed'));
      done(result);
    });
  }
  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}

export interface EmitOptions {
  /** The OTLP exporter's request timeout (its default: 10 s). */
  timeoutMillis?: number;
  /** Records per OTLP request (the batch processor's maxExportBatchSize; default 200). */
  recordsPerRequest?: number;
}

/** Emits audit events as the SDK's conventions describe, plus ordinary logs, through the real OTel JS SDK. */
export async function emit(
  otlpHttpUrl: string,
  runId: string,
  events: readonly TestAuditEvent[],
  ordinaryBodies: readonly string[],
  options: EmitOptions = {},
): Promise<void> {
  const exporter = new FailureRecordingExporter(
    new OTLPLogExporter({
      url: `${otlpHttpUrl}/v1/logs`,
      ...(options.timeoutMillis === undefined ? {} : { timeoutMillis: options.timeoutMillis }),
    }),
  );
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': 'e2e-service', 'e2e.run': runId }),
    processors: [
      new BatchLogRecordProcessor({
        exporter,
        maxQueueSize: 10_000,
        maxExportBatchSize: options.recordsPerRequest ?? 200,
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
  if (exporter.failures.length > 0) {
    throw new Error(`the collector refused ${exporter.failures.length} export(s): ${exporter.failures[0]}`);
  }
}

/** Polls `done` until it returns true; fails with `what` and the last state after `timeoutMs`. */
export async function waitFor(
  what: string,
  done: () => boolean | Promise<boolean>,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await done()) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/**
 * The last hop: `otel-audit serve` in this process on a fixed port (so a collector can point at it while it is
 * down) and its own chDB directory, keeping raw `otel_logs` rows so tests see exactly what was written.
 */
export class ReceiverLastHop {
  private running: RunningServe | undefined;
  readonly logs: string[] = [];

  constructor(
    readonly port: number,
    readonly dataDir: string,
    private readonly token: string,
  ) {}

  get logsUrl(): string {
    return `http://127.0.0.1:${this.port}/v1/logs`;
  }

  /** The store's read connection (only while running). */
  get store(): AuditStore {
    if (!this.running) throw new Error('the receiver is not running');
    return this.running.store;
  }

  async start(): Promise<void> {
    this.running = await startServe({
      store: { path: this.dataDir },
      port: this.port,
      token: this.token,
      // 60 years of raw rows: nothing the tests write expires, and the TTL date still fits DateTime.
      migrate: { logsEngine: 'MergeTree', rawLogsRetentionDays: 60 * 365 },
      // Every record it is sent is stored: that no ordinary log arrives is the collector config's doing.
      records: 'all',
      log: jsonLogger((line) => this.logs.push(line)),
    });
  }

  async stop(): Promise<void> {
    const running = this.running;
    this.running = undefined;
    await running?.close();
  }
}

/** One `otel_logs` row as stored, for the checks below. */
export interface StoredLogRow {
  ts: string;
  ScopeName: string;
  EventName: string;
  Body: string;
  LogAttributes: Record<string, string>;
  ResourceAttributes: Record<string, string>;
}

/** The raw rows of one run (by the `e2e.run` resource attribute). */
export async function storedRows(store: AuditStore, runId: string): Promise<StoredLogRow[]> {
  return store.query<StoredLogRow>(
    `SELECT toString(toUnixTimestamp64Nano(Timestamp)) AS ts, ScopeName, EventName, Body, LogAttributes,
            ResourceAttributes
     FROM {db}.${AUDIT_TABLES.logs} WHERE ResourceAttributes['e2e.run'] = {run:String}`,
    { run: runId },
  );
}

/** The stored rows of each event id (copies allowed: at-least-once delivery). */
export function rowsById(rows: readonly StoredLogRow[]): Map<string, StoredLogRow[]> {
  const byId = new Map<string, StoredLogRow[]>();
  for (const row of rows) {
    const id = row.LogAttributes[A.eventId];
    if (id === undefined) continue;
    byId.set(id, [...(byId.get(id) ?? []), row]);
  }
  return byId;
}

/** Waits until every event of the run has a stored row; returns the rows. */
export async function waitForStored(
  lastHop: ReceiverLastHop,
  runId: string,
  events: readonly TestAuditEvent[],
  timeoutMs?: number,
): Promise<StoredLogRow[]> {
  let rows: StoredLogRow[] = [];
  await waitFor(
    `${events.length} audit events stored by the receiver`,
    async () => {
      rows = await storedRows(lastHop.store, runId);
      const byId = rowsById(rows);
      return events.every((event) => byId.has(event.id));
    },
    timeoutMs,
  );
  return rows;
}

/** Checks that a stored row carries the event exactly as emitted: actor, targets, metadata, time. */
export function expectIntact(event: TestAuditEvent, row: StoredLogRow): void {
  const attr = row.LogAttributes;
  expect(row.ScopeName).toBe(AUDIT_SCOPE_NAME);
  expect(row.EventName).toBe(event.action);
  expect(row.ts).toBe(`${BigInt(event.occurredAt.getTime()) * 1_000_000n}`);
  expect(attr[A.action]).toBe(event.action);
  expect(attr[A.tenant]).toBe(event.tenant);
  expect(attr[A.actorId]).toBe(event.actor.id);
  expect(attr[A.actorType]).toBe(event.actor.type);
  expect(attr[A.actorName]).toBe(event.actor.name);
  expect(attr[A.version]).toBe('1');
  expect(JSON.parse(attr[A.actorFields] ?? 'null')).toEqual(event.actor.fields);
  expect(JSON.parse(attr[A.targets] ?? 'null')).toEqual(event.targets);
  expect(JSON.parse(row.Body)).toEqual(event.metadata);
}
