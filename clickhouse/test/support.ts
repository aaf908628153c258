import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AUDIT_ATTRIBUTES,
  AUDIT_SCOPE_NAME,
  AUDIT_SEVERITY,
  CONVENTIONS_VERSION,
} from '@otel-audit/sdk/conventions';
import { AuditStore, type MigrationOptions, type OtelLogRow } from '../src/index.js';

/** A migrated store in a fresh temp directory (one per test file: chDB allows one directory per process). */
export async function openTestStore(
  options: Omit<MigrationOptions, 'database'> = {},
): Promise<{ store: AuditStore; dir: string; cleanup: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'otel-audit-ch-'));
  const store = await AuditStore.open({ path: dir });
  await store.migrate(options);
  return {
    store,
    dir,
    cleanup: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface TestEvent {
  id?: string | undefined;
  action?: string | undefined;
  tenant?: string | undefined;
  actor?:
    | { id: string; type: string; name?: string | undefined; fields?: Record<string, unknown> | undefined }
    | undefined;
  targets?:
    | { type: string; id: string; name?: string | undefined; fields?: Record<string, unknown> | undefined }[]
    | undefined;
  crud?: string | undefined;
  outcome?: string | undefined;
  outcomeReason?: string | undefined;
  occurredAt?: Date | undefined;
  version?: number | undefined;
  ip?: string | undefined;
  userAgent?: string | undefined;
  requestId?: string | undefined;
  metadata?: unknown | undefined;
  changes?: { before?: unknown; after?: unknown } | undefined;
  count?: number | undefined;
  lastOccurredAt?: Date | undefined;
  traceId?: string | undefined;
  spanId?: string | undefined;
  service?: string | undefined;
  /** Extra/overriding raw attributes (to build malformed rows). */
  attributes?: Record<string, string> | undefined;
  body?: string | undefined;
}

/** Go encoding/json style: object keys sorted, as the exporter writes maps and arrays of maps. */
export function sortedJson(value: unknown): string {
  const sort = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(sort)
      : v !== null && typeof v === 'object'
        ? Object.fromEntries(
            Object.keys(v as object)
              .sort()
              .map((k) => [k, sort((v as Record<string, unknown>)[k])]),
          )
        : v;
  return JSON.stringify(sort(value));
}

const nanos = (d: Date) => `${BigInt(d.getTime()) * 1_000_000n}`;

/** The row the collector's ClickHouse exporter writes for one SDK-emitted audit record. */
export function logRow(e: TestEvent = {}): OtelLogRow {
  const occurredAt = e.occurredAt ?? new Date('2026-11-22T10:00:00.123Z');
  const outcome = e.outcome ?? 'success';
  const a: Record<string, string> = {
    [AUDIT_ATTRIBUTES.eventId]: e.id ?? crypto.randomUUID(),
    [AUDIT_ATTRIBUTES.action]: e.action ?? 'billing.invoice.paid',
    [AUDIT_ATTRIBUTES.tenant]: e.tenant ?? 'acme',
    [AUDIT_ATTRIBUTES.actorId]: e.actor?.id ?? 'u1',
    [AUDIT_ATTRIBUTES.actorType]: e.actor?.type ?? 'user',
    [AUDIT_ATTRIBUTES.targets]: sortedJson(e.targets ?? []),
    [AUDIT_ATTRIBUTES.crud]: e.crud ?? 'update',
    [AUDIT_ATTRIBUTES.outcome]: outcome,
    [AUDIT_ATTRIBUTES.version]: String(e.version ?? 1),
  };
  if (e.actor?.name !== undefined) a[AUDIT_ATTRIBUTES.actorName] = e.actor.name;
  if (e.actor?.fields !== undefined) a[AUDIT_ATTRIBUTES.actorFields] = sortedJson(e.actor.fields);
  if (e.outcomeReason !== undefined) a[AUDIT_ATTRIBUTES.outcomeReason] = e.outcomeReason;
  if (e.ip !== undefined) a[AUDIT_ATTRIBUTES.contextIp] = e.ip;
  if (e.userAgent !== undefined) a[AUDIT_ATTRIBUTES.contextUserAgent] = e.userAgent;
  if (e.requestId !== undefined) a[AUDIT_ATTRIBUTES.contextRequestId] = e.requestId;
  if (e.changes !== undefined) a[AUDIT_ATTRIBUTES.changes] = sortedJson(e.changes);
  if (e.count !== undefined) a[AUDIT_ATTRIBUTES.count] = String(e.count);
  if (e.lastOccurredAt !== undefined) a[AUDIT_ATTRIBUTES.lastOccurredAt] = e.lastOccurredAt.toISOString();
  Object.assign(a, e.attributes);
  const severity = outcome === 'failure' ? AUDIT_SEVERITY.failure : AUDIT_SEVERITY.success;
  return {
    Timestamp: nanos(occurredAt),
    TraceId: e.traceId ?? '',
    SpanId: e.spanId ?? '',
    TraceFlags: e.traceId ? 1 : 0,
    SeverityText: severity.text,
    SeverityNumber: severity.number,
    ServiceName: e.service ?? 'billing',
    Body: e.body ?? JSON.stringify(e.metadata ?? null),
    ResourceSchemaUrl: '',
    ResourceAttributes: { 'service.name': e.service ?? 'billing' },
    ScopeSchemaUrl: '',
    ScopeName: AUDIT_SCOPE_NAME,
    ScopeVersion: CONVENTIONS_VERSION,
    ScopeAttributes: {},
    LogAttributes: Object.fromEntries(Object.entries(a).sort(([x], [y]) => (x < y ? -1 : 1))),
    EventName: e.action ?? 'billing.invoice.paid',
  };
}
