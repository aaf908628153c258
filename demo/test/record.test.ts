// The demo recorded through a real OTel LoggerProvider, then stored the way the collector's ClickHouse exporter
// writes log records, into the real migrations on chDB: every event lands, typed and clean.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  InMemoryLogRecordExporter,
  LoggerProvider,
  type ReadableLogRecord,
  SimpleLogRecordProcessor,
} from '@opentelemetry/sdk-logs';
import { AuditStore, type OtelLogRow } from '@otel-audit/clickhouse';
import { AUDIT_ATTRIBUTES as A, AUDIT_SCOPE_NAME, AUDIT_TABLES } from '@otel-audit/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DemoProgress, demoAuditLogger, generateDemoEvents, recordDemoEvents } from '../src/index.js';

const N = 400;
const END = new Date('2026-11-22T12:00:00Z');
const exporter = new InMemoryLogRecordExporter();
const provider = new LoggerProvider({
  resource: resourceFromAttributes({ 'service.name': 'demo-test' }),
  processors: [new SimpleLogRecordProcessor({ exporter })],
});
const progress: DemoProgress[] = [];
let records: ReadableLogRecord[] = [];
let summary: Awaited<ReturnType<typeof recordDemoEvents>>;

/** The exporter's `AsString()` of an attribute value (reference §1). */
const asString = (v: unknown) =>
  typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
const nanos = (t: [number, number]) => `${BigInt(t[0]) * 1_000_000_000n + BigInt(t[1])}`;

function exporterRow(r: ReadableLogRecord): OtelLogRow {
  return {
    Timestamp: nanos(r.hrTime),
    TraceId: '',
    SpanId: '',
    TraceFlags: 0,
    SeverityText: r.severityText ?? '',
    SeverityNumber: r.severityNumber ?? 0,
    ServiceName: String(r.resource.attributes['service.name'] ?? ''),
    Body: asString(r.body),
    ResourceSchemaUrl: '',
    ResourceAttributes: { 'service.name': String(r.resource.attributes['service.name']) },
    ScopeSchemaUrl: '',
    ScopeName: r.instrumentationScope.name,
    ScopeVersion: r.instrumentationScope.version ?? '',
    ScopeAttributes: {},
    LogAttributes: Object.fromEntries(Object.entries(r.attributes).map(([k, v]) => [k, asString(v)])),
    EventName: r.eventName ?? '',
  };
}

beforeAll(async () => {
  summary = await recordDemoEvents(demoAuditLogger(provider), N, (p) => progress.push(p), {
    seed: 3,
    end: END,
  });
  await provider.forceFlush();
  records = exporter.getFinishedLogRecords();
});

afterAll(() => provider.shutdown());

describe('recordDemoEvents through the OTel SDK', () => {
  it('emits one log record per event and reports progress up to the total', () => {
    expect(records).toHaveLength(N);
    expect(summary.recorded).toBe(N);
    expect(progress.at(-1)).toEqual({ done: N, total: N });
    expect(progress.length).toBeGreaterThanOrEqual(100);
    const done = progress.map((p) => p.done);
    expect(done).toEqual([...done].sort((a, b) => a - b));
  });

  it('maps every field onto the conventions', () => {
    const inputs = generateDemoEvents(N, { seed: 3, end: END });
    const input = inputs.find((e) => e.changes !== undefined && e.context?.ip !== undefined);
    const record = records.find((r) => r.attributes[A.eventId] === input?.id);
    expect(record).toBeDefined();
    expect(record?.instrumentationScope.name).toBe(AUDIT_SCOPE_NAME);
    expect(record?.eventName).toBe(input?.action);
    expect(record?.attributes).toMatchObject({
      [A.action]: input?.action,
      [A.tenant]: input?.tenant,
      [A.actorId]: input?.actor?.id,
      [A.actorType]: input?.actor?.type,
      [A.crud]: input?.crud,
      [A.contextIp]: input?.context?.ip,
    });
    expect(JSON.parse(String(record?.attributes[A.changes]))).toEqual(input?.changes);
    expect(JSON.parse(String(record?.attributes[A.targets]))).toEqual(input?.targets);
    const failed = records.find((r) => r.attributes[A.outcome] === 'failure');
    expect(failed?.severityText).toBe('WARN');
    expect(String(failed?.attributes[A.outcomeReason] ?? '')).not.toBe('');
  });

  it('rejects an invalid event with the SDK validation error instead of dropping it', async () => {
    const logger = demoAuditLogger(provider);
    expect(() => logger.record({ action: 'Not Valid', tenant: 'x' })).toThrow(/action/);
  });
});

describe('stored by the real migrations (chDB)', () => {
  let store: AuditStore;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'otel-audit-demo-'));
    store = await AuditStore.open({ path: dir });
    await store.migrate();
    await store.insertLogs(records.map(exporterRow));
  });

  afterAll(async () => {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lands every event with no malformed field, per tenant as generated', async () => {
    const rows = await store.query<{ tenant: string; n: string; malformed: string }>(
      `SELECT tenant, count() AS n, countIf(malformed != '') AS malformed FROM {db}.audit_events FINAL GROUP BY tenant ORDER BY tenant`,
    );
    const expected = new Map<string, number>();
    for (const e of generateDemoEvents(N, { seed: 3, end: END }))
      expected.set(e.tenant as string, (expected.get(e.tenant as string) ?? 0) + 1);
    expect(rows.map((r) => [r.tenant, Number(r.n), Number(r.malformed)])).toEqual(
      [...expected].sort(([a], [b]) => (a < b ? -1 : 1)).map(([t, n]) => [t, n, 0]),
    );
  });

  it('keeps targets, failures and actor kinds queryable', async () => {
    const [row] = await store.query<{ failures: string; api_keys: string; multi: string; by_target: string }>(
      `SELECT countIf(outcome = 'failure') AS failures, countIf(actor_type = 'api_key') AS api_keys,
         countIf(length(targets) > 1) AS multi, (SELECT count() FROM {db}.${AUDIT_TABLES.byTarget} FINAL) AS by_target
       FROM {db}.audit_events FINAL`,
    );
    expect(Number(row?.failures)).toBe(summary.failures);
    expect(Number(row?.api_keys)).toBeGreaterThan(0);
    expect(Number(row?.multi)).toBeGreaterThan(0);
    const targetCount = generateDemoEvents(N, { seed: 3, end: END }).reduce(
      (s, e) => s + (e.targets?.length ?? 0),
      0,
    );
    expect(Number(row?.by_target)).toBe(targetCount);
  });
});
