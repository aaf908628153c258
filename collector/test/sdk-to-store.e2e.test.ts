// End to end: SDK → OTLP/HTTP (AuditOTLPLogExporter via createAuditLoggerProvider) → the project's receiver →
// chDB with the real migrations. What the SDK counts as exported is stored; what the receiver refuses is
// counted as failed and reported, never as exported.
import {
  AuditEventTooLargeError,
  AuditRejectedError,
  AuditValidationError,
  createAuditLogger,
  type UndeliveredEvent,
} from '@otel-audit/sdk';
import { createAuditLoggerProvider } from '@otel-audit/sdk/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServe, type TestServe } from './receiver-support.js';

let serve: TestServe;
beforeAll(async () => {
  serve = await startTestServe({ records: 'audit' });
}, 60_000);
afterAll(async () => {
  await serve?.close();
});

function pipeline(tenant: string, loggerOptions: { maxEventBytes?: number } = {}) {
  const errors: { error: Error; events: readonly UndeliveredEvent[] }[] = [];
  const provider = createAuditLoggerProvider({
    serviceName: 'sdk-to-store',
    endpoint: serve.serve.url,
    headers: serve.auth,
    processor: { scheduledDelayMillis: 10_000 }, // one batch, sent by flush()
  });
  const audit = createAuditLogger({
    loggerProvider: provider,
    tenant,
    flushOnExit: false,
    onError: (error, events) => errors.push({ error, events }),
    ...loggerOptions,
  });
  return { provider, audit, errors };
}

async function storedIds(tenant: string, ids: string[]): Promise<string[]> {
  const found: string[] = [];
  for (const id of ids) if (await serve.serve.store.getEvent(tenant, id)) found.push(id);
  return found;
}

describe('SDK → receiver → chDB', () => {
  it('stores every field of a full event as record() returned it, and of a coalesced one as sdk/README.md says, unmarked', async () => {
    const { provider, audit, errors } = pipeline('full');
    const full = audit.record({
      action: 'billing.invoice.paid',
      actor: {
        id: 'user_42',
        type: 'user',
        name: 'Ada <&> "L"',
        fields: { role: 'admin', n: 1e21, tiny: 5e-7 },
      },
      targets: [
        { type: 'invoice', id: 'inv_1', name: 'Invoice 1', fields: { total: 1299, tags: ['a', 'b'] } },
        { type: 'account', id: 'acct_9' },
      ],
      crud: 'update',
      outcome: 'failure',
      outcomeReason: 'card declined',
      occurredAt: '2026-11-20T10:11:12.345Z',
      version: 3,
      context: { ip: '2001:db8::1', userAgent: 'curl/8 ✓', requestId: 'req-1' },
      metadata: { amount: 1299, currency: 'EUR', nested: { deep: [1, null, 'x\u2028y'] }, big: 2 ** 64 },
      changes: { before: { status: 'open' }, after: { status: 'paid' } },
    });
    const saves = audit.coalesce({ idleMs: 60_000, maxWindowMs: 60_000 });
    // Everything that describes an occurrence differs between them, so the stored event shows which one it took.
    const described = (revision: number) => ({
      action: 'docs.sheet.saved',
      tenant: 'full',
      actor: { id: 'user_42', type: 'user', name: `Ada ${revision}`, fields: { revision } },
      targets: [{ type: 'sheet', id: 'sh_1', name: `Sheet r${revision}`, fields: { revision } }],
      crud: 'update' as const,
      outcome: 'failure' as const,
      outcomeReason: `conflict ${revision}`,
      version: 2,
      context: { ip: `10.0.0.${revision}`, userAgent: `ua ${revision}`, requestId: `req-${revision}` },
      metadata: { revision },
    });
    const occurrence = (at: string, revision: number) =>
      saves.record({
        ...described(revision),
        occurredAt: at,
        changes: { before: { revision: revision - 1 }, after: { revision } },
      });
    const first = occurrence('2026-11-20T10:00:00.000Z', 1);
    occurrence('2026-11-20T10:00:05.500Z', 2);
    const last = occurrence('2026-11-20T10:00:02.250Z', 3);
    const stats = await audit.flush();
    await provider.shutdown();
    expect(errors).toEqual([]);
    expect(stats).toMatchObject({ exported: 2, failed: 0, pending: 0 });

    const stored = await serve.serve.store.getEvent('full', full.id);
    const { receivedAt, serviceName, malformed, traceId, spanId, ...event } = stored ?? ({} as never);
    expect(malformed).toEqual([]);
    expect(serviceName).toBe('sdk-to-store');
    expect(event).toEqual(full);

    // sdk/README.md, Session coalescing: the first occurrence's id, the earliest and latest times, the count,
    // changes from the first's before to the last's after, everything else from the last one recorded.
    expect(last.id).toBe(first.id);
    const coalesced = await serve.serve.store.getEvent('full', first.id);
    const { malformed: coalescedMalformed, ...storedCoalesced } = coalesced ?? ({} as never);
    expect(coalescedMalformed).toEqual([]);
    expect(storedCoalesced).toEqual({
      ...described(3),
      id: first.id,
      count: 3,
      occurredAt: new Date('2026-11-20T10:00:00.000Z'),
      lastOccurredAt: new Date('2026-11-20T10:00:05.500Z'),
      changes: { before: { revision: 0 }, after: { revision: 3 } },
      receivedAt: expect.any(Date),
      serviceName: 'sdk-to-store',
    });
  }, 30_000);

  it('refuses an occurredAt outside the OTLP/DateTime64(9) range, so the rest of its batch is stored', async () => {
    const { provider, audit, errors } = pipeline('range');
    for (const occurredAt of [
      '1969-12-31T23:59:59Z',
      new Date('2300-01-01T00:00:00Z'),
      '3000-01-01T00:00:00Z',
    ]) {
      expect(() => audit.record({ action: 'a.b.created', occurredAt })).toThrow(AuditValidationError);
    }
    const ids = Array.from({ length: 9 }, () => audit.record({ action: 'a.b.created' }).id);
    const edge = audit.record({ action: 'a.b.created', occurredAt: '2262-04-11T23:47:16.854Z' }).id;
    const stats = await audit.flush();
    await provider.shutdown();
    expect(errors).toEqual([]);
    expect(stats).toMatchObject({ recorded: 10, exported: 10, failed: 0, pending: 0 });
    expect(await storedIds('range', [...ids, edge])).toHaveLength(10);
    const stored = await serve.serve.store.getEvent('range', edge);
    expect(stored?.occurredAt.toISOString()).toBe('2262-04-11T23:47:16.854Z');
  }, 30_000);

  it('an event the SDK accepts at its size limit fits the receiver; a bigger one is refused by the SDK', async () => {
    const { provider, audit, errors } = pipeline('size');
    // Before: only metadata/targets/fields/changes counted, so a 3M-character reason passed the SDK and the
    // receiver dropped it by partial success.
    expect(() =>
      audit.record({ action: 'a.b.created', outcome: 'failure', outcomeReason: 'x'.repeat(3_000_000) }),
    ).toThrow(AuditEventTooLargeError);
    const big = audit.record({
      action: 'a.b.created',
      outcome: 'failure',
      outcomeReason: 'é'.repeat(500_000), // 1,000,000 bytes: just under the default 1 MiB
      context: { userAgent: 'u'.repeat(20_000), requestId: 'r'.repeat(20_000) },
    }).id;
    const stats = await audit.flush();
    await provider.shutdown();
    expect(errors).toEqual([]);
    expect(stats).toMatchObject({ exported: 1, failed: 0, pending: 0 });
    expect(await storedIds('size', [big])).toEqual([big]);
  }, 30_000);

  it('recording the same UUIDv7 id twice without occurredAt stores one event', async () => {
    const { provider, audit } = pipeline('retry');
    const id = '0193a5b0-7c1d-7e2f-8a3b-4c5d6e7f8091';
    const event = () => ({ id, action: 'billing.invoice.paid', actor: { id: 'u1', type: 'user' } });
    const first = audit.record(event());
    await new Promise((resolve) => setTimeout(resolve, 5));
    const again = audit.record(event());
    expect(again.occurredAt).toEqual(first.occurredAt);
    expect(await audit.flush()).toMatchObject({ exported: 2, failed: 0 });
    await provider.shutdown();
    const page = await serve.serve.store.search({ tenant: 'retry' }, { limit: 10 });
    expect(page.events.map((e) => e.id)).toEqual([id]);
  }, 30_000);

  it('counts records the receiver rejects by partial success as failed and reports them through onError', async () => {
    // A logger allowed bigger events than the receiver's record limit (2 MiB by default).
    const { provider, audit, errors } = pipeline('partial', { maxEventBytes: 8 * 1024 * 1024 });
    const small = [audit.record({ action: 'a.b.created' }).id, audit.record({ action: 'a.b.updated' }).id];
    const huge = audit.record({
      action: 'a.b.deleted',
      outcome: 'failure',
      outcomeReason: 'x'.repeat(3_000_000),
    });
    const stats = await audit.flush();
    await provider.shutdown();
    expect(stats).toMatchObject({ recorded: 3, exported: 2, failed: 1, pending: 0 });
    expect(errors).toHaveLength(1);
    const report = errors[0];
    expect(report?.error).toBeInstanceOf(AuditRejectedError);
    expect(report?.error).toMatchObject({ rejected: 1 });
    expect(report?.error.message).toMatch(/rejected 1 of 3 .*1 counted as failed: .*over the limit/);
    // The endpoint does not say which: the batch's events are the candidates.
    expect(report?.events.map((e) => e.id).sort()).toEqual([...small, huge.id].sort());
    expect(await storedIds('partial', [...small, huge.id])).toEqual(small);
  }, 30_000);
});
