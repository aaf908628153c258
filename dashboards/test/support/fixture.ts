// Known audit events, written as the collector's ClickHouse exporter writes them (reference §1), so the
// real migrations' views turn them into audit_events rows exactly as in production.

import type { OtelLogRow } from '@otel-audit/clickhouse';
import {
  AUDIT_ATTRIBUTES as A,
  AUDIT_SCOPE_NAME,
  AUDIT_SEVERITY,
  CONVENTIONS_VERSION,
  type Crud,
  type Outcome,
} from '@otel-audit/sdk/conventions';

export interface FixtureEvent {
  id: string;
  tenant: string;
  at: string;
  action: string;
  crud: Crud;
  outcome: Outcome;
  reason?: string;
  actor: { id: string; type: string; name: string };
  targets: { type: string; id: string; name: string; fields?: Record<string, unknown> }[];
  changes?: { before: unknown; after: unknown };
  metadata?: unknown;
}

/** Go encoding/json: map keys sorted. */
function goJson(value: unknown): string {
  const sort = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(sort)
      : v !== null && typeof v === 'object'
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .map((k) => [k, sort((v as Record<string, unknown>)[k])]),
          )
        : v;
  return JSON.stringify(sort(value));
}

export function toLogRow(e: FixtureEvent): OtelLogRow {
  const attributes: Record<string, string> = {
    [A.eventId]: e.id,
    [A.action]: e.action,
    [A.tenant]: e.tenant,
    [A.crud]: e.crud,
    [A.outcome]: e.outcome,
    [A.actorId]: e.actor.id,
    [A.actorType]: e.actor.type,
    [A.actorName]: e.actor.name,
    [A.targets]: goJson(e.targets),
    [A.version]: '1',
    [A.contextIp]: '203.0.113.7',
  };
  if (e.reason) attributes[A.outcomeReason] = e.reason;
  if (e.changes) attributes[A.changes] = goJson(e.changes);
  const severity = AUDIT_SEVERITY[e.outcome];
  return {
    Timestamp: `${BigInt(Date.parse(e.at)) * 1_000_000n}`,
    TraceId: '',
    SpanId: '',
    TraceFlags: 0,
    SeverityText: severity.text,
    SeverityNumber: severity.number,
    ServiceName: e.action.split('.')[0] ?? '',
    Body: JSON.stringify(e.metadata ?? null),
    ResourceSchemaUrl: '',
    ResourceAttributes: { 'service.name': e.action.split('.')[0] ?? '' },
    ScopeSchemaUrl: '',
    ScopeName: AUDIT_SCOPE_NAME,
    ScopeVersion: CONVENTIONS_VERSION,
    ScopeAttributes: {},
    LogAttributes: Object.fromEntries(Object.entries(attributes).sort(([x], [y]) => (x < y ? -1 : 1))),
    EventName: e.action,
  };
}

const alice = { id: 'u-alice', type: 'user', name: 'Alice' };
const bob = { id: 'u-bob', type: 'user', name: 'Bob' };
const ciKey = { id: 'k-ci', type: 'api_key', name: 'CI key' };
const apollo = { type: 'project', id: 'p-1', name: 'Apollo' };

/** Ids to assert on. */
export const ID = {
  paid1: '0190a000-0000-7000-8000-000000000001',
  settings: '0190a000-0000-7000-8000-000000000002',
  denied: '0190a000-0000-7000-8000-000000000003',
  deploy: '0190a000-0000-7000-8000-000000000004',
  paid2: '0190a000-0000-7000-8000-000000000005',
  yesterday: '0190a000-0000-7000-8000-000000000006',
  globex: '0190a000-0000-7000-8000-000000000007',
  quoted: '0190a000-0000-7000-8000-000000000008',
  backslash: '0190a000-0000-7000-8000-000000000009',
} as const;

/** Values with backslashes (Windows accounts, paths): in a ClickHouse string literal a backslash escapes. */
export const BACKSLASH = { tenant: 'corp\\eu', actor: 'CORP\\alice', targetId: 'C:\\data\\x' } as const;

/** The dashboards' time range in the tests; `yesterday` lies before it. */
export const RANGE = { from: new Date('2026-11-22T00:00:00Z'), to: new Date('2026-11-23T00:00:00Z') };

export const EVENTS: FixtureEvent[] = [
  {
    id: ID.paid1,
    tenant: 'acme',
    at: '2026-11-22T10:00:00.000Z',
    action: 'billing.invoice.paid',
    crud: 'update',
    outcome: 'success',
    actor: alice,
    targets: [{ type: 'invoice', id: 'inv-1', name: 'Invoice 1', fields: { amount: 120 } }],
    metadata: { amount: 120, currency: 'EUR' },
  },
  {
    id: ID.settings,
    tenant: 'acme',
    at: '2026-11-22T10:05:00.000Z',
    action: 'project.settings.updated',
    crud: 'update',
    outcome: 'success',
    actor: alice,
    targets: [apollo],
    changes: { before: { public: false }, after: { public: true } },
  },
  {
    id: ID.denied,
    tenant: 'acme',
    at: '2026-11-22T10:10:00.000Z',
    action: 'project.settings.updated',
    crud: 'update',
    outcome: 'failure',
    reason: 'forbidden',
    actor: bob,
    targets: [apollo],
  },
  {
    id: ID.deploy,
    tenant: 'acme',
    at: '2026-11-22T10:15:00.000Z',
    action: 'project.deployment.created',
    crud: 'create',
    outcome: 'success',
    actor: ciKey,
    targets: [apollo, { type: 'deployment', id: 'd-1', name: 'Deploy #1', fields: { commit: 'abc123' } }],
  },
  {
    id: ID.paid2,
    tenant: 'acme',
    at: '2026-11-22T11:00:00.000Z',
    action: 'billing.invoice.paid',
    crud: 'update',
    outcome: 'success',
    actor: alice,
    targets: [{ type: 'invoice', id: 'inv-2', name: 'Invoice 2' }],
  },
  {
    id: ID.yesterday,
    tenant: 'acme',
    at: '2026-11-21T23:00:00.000Z',
    action: 'auth.session.created',
    crud: 'create',
    outcome: 'success',
    actor: alice,
    targets: [apollo],
  },
  {
    id: ID.globex,
    tenant: 'globex',
    at: '2026-11-22T10:00:00.000Z',
    action: 'auth.session.created',
    crud: 'create',
    outcome: 'success',
    actor: alice,
    targets: [{ type: 'session', id: 's-1', name: '' }],
  },
  {
    id: ID.quoted,
    tenant: "o'reilly",
    at: '2026-11-22T12:00:00.000Z',
    action: 'billing.invoice.paid',
    crud: 'update',
    outcome: 'success',
    actor: alice,
    targets: [],
  },
  {
    id: ID.backslash,
    tenant: BACKSLASH.tenant,
    // Half a second into its second: `$__timeFilter` (whole seconds) would miss it in a range ending at .900.
    at: '2026-11-22T12:00:00.500Z',
    action: 'storage.file.deleted',
    crud: 'delete',
    outcome: 'success',
    actor: { id: BACKSLASH.actor, type: 'user', name: 'Alice (corp)' },
    targets: [{ type: 'file', id: BACKSLASH.targetId, name: 'x' }],
  },
];

/** Rows to insert: every event, then the first one again in a separate insert (an at-least-once retry). */
export function fixtureBatches(): OtelLogRow[][] {
  const rows = EVENTS.map(toLogRow);
  return [rows, [rows[0] as OtelLogRow]];
}
