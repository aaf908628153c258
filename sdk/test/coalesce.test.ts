import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SESSION_IDS_KEPT } from '../src/coalesce.js';
import { AUDIT_ATTRIBUTES as A, createAuditLogger } from '../src/index.js';
import { memoryProvider } from './support.js';

beforeEach(() => {
  vi.useFakeTimers({ now: new Date('2026-05-01T09:00:00Z') });
});
afterEach(() => {
  vi.useRealTimers();
});

function setup(options = {}) {
  const { provider, exporter } = memoryProvider();
  const audit = createAuditLogger({ loggerProvider: provider, tenant: 'acme', flushOnExit: false });
  return { audit, exporter, sheet: audit.coalesce({ idleMs: 5_000, maxWindowMs: 60_000, ...options }) };
}

const save = (n: number, sheet = 'sheet-1', actor = 'u-1') => ({
  action: 'docs.sheet.saved',
  actor: { id: actor, type: 'user' },
  targets: [{ type: 'sheet', id: sheet }],
  occurredAt: new Date(Date.now()),
  metadata: { revision: n },
  changes: { before: { rev: n - 1 }, after: { rev: n } },
});

describe('session coalescing', () => {
  it('merges saves every second into one event with a count and first/last times', () => {
    const { sheet, exporter } = setup();
    const first = sheet.record(save(1));
    for (let n = 2; n <= 30; n++) {
      vi.advanceTimersByTime(1_000);
      expect(sheet.record(save(n)).id).toBe(first.id);
    }
    expect(exporter.records).toHaveLength(0);
    vi.advanceTimersByTime(4_999);
    expect(exporter.records).toHaveLength(0);
    vi.advanceTimersByTime(1);
    expect(exporter.records).toHaveLength(1);
    const [record] = exporter.records;
    expect(record?.attributes[A.eventId]).toBe(first.id);
    expect(record?.attributes[A.count]).toBe(30);
    expect(record?.attributes[A.lastOccurredAt]).toBe('2026-05-01T09:00:29.000Z');
    expect(record?.hrTime[0]).toBe(Date.parse('2026-05-01T09:00:00Z') / 1000);
    // Latest metadata; changes from the first occurrence's before to the last one's after.
    expect(JSON.parse(record?.body as string)).toEqual({ revision: 30 });
    expect(JSON.parse(record?.attributes[A.changes] as string)).toEqual({
      before: { rev: 0 },
      after: { rev: 30 },
    });
    expect(sheet.pending).toBe(0);
  });

  it('keeps different actors, targets and outcomes apart', () => {
    const { sheet, exporter } = setup();
    sheet.record(save(1, 'sheet-1', 'u-1'));
    sheet.record(save(2, 'sheet-1', 'u-2'));
    sheet.record(save(3, 'sheet-2', 'u-1'));
    sheet.record({ ...save(4), outcome: 'failure' });
    sheet.record(save(5, 'sheet-1', 'u-1'));
    expect(sheet.pending).toBe(4);
    vi.advanceTimersByTime(5_000);
    expect(exporter.records.map((r) => r.attributes[A.count] ?? 1).sort()).toEqual([1, 1, 1, 2]);
  });

  it('emits a session at the latest after maxWindowMs even while repeats go on', () => {
    const { sheet, exporter } = setup({ maxWindowMs: 10_000 });
    for (let s = 0; s <= 12; s++) {
      sheet.record(save(s + 1));
      vi.advanceTimersByTime(1_000);
    }
    expect(exporter.records.length).toBeGreaterThanOrEqual(1);
    expect(exporter.records[0]?.attributes[A.count]).toBe(10);
  });

  it('emits a session after maxWindowMs also when the wall clock steps back meanwhile (NTP correcting a fast clock)', () => {
    const { sheet, exporter } = setup({ maxWindowMs: 10_000 });
    sheet.record(save(1));
    vi.setSystemTime(Date.now() - 3_600_000); // timers and performance.now() go on; Date steps back an hour
    for (let s = 0; s < 12; s++) {
      vi.advanceTimersByTime(1_000);
      sheet.record(save(s + 2));
    }
    expect(exporter.records.length).toBeGreaterThanOrEqual(1);
    expect(exporter.records[0]?.attributes[A.count]).toBe(10);
  });

  it('is flushed by the logger: nothing coalesced is lost at flush or shutdown', async () => {
    const { audit, sheet, exporter } = setup();
    sheet.record(save(1));
    sheet.record(save(2));
    const stats = await audit.flush();
    expect(exporter.records).toHaveLength(1);
    expect(exporter.records[0]?.attributes[A.count]).toBe(2);
    expect(stats.recorded).toBe(1);
    sheet.record(save(3));
    await audit.shutdown();
    expect(exporter.records).toHaveLength(2);
  });

  for (const when of ['after', 'before'] as const)
    it(`drops what a recorder opened ${when} shutdown() (idle then) records later, reason shutdown, as record() does`, async () => {
      const { provider, exporter } = memoryProvider();
      const drops: { ids: string[]; reason: string }[] = [];
      const audit = createAuditLogger({
        loggerProvider: provider,
        tenant: 'acme',
        flushOnExit: false,
        onDrop: (events, reason) => drops.push({ ids: events.map((e) => e.id), reason }),
      });
      const early = when === 'before' ? audit.coalesce({ idleMs: 60_000 }) : undefined;
      await audit.shutdown();
      const late = early ?? audit.coalesce({ idleMs: 60_000 });
      const first = late.record(save(1));
      late.record(save(2));
      // Nothing is held for an exit hook the shutdown removed: each occurrence is dropped now, and said so.
      expect(late.pending).toBe(0);
      expect(exporter.records).toHaveLength(0);
      expect(drops).toEqual([
        { ids: [first.id], reason: 'shutdown' },
        { ids: [expect.any(String)], reason: 'shutdown' },
      ]);
      expect(audit.stats()).toMatchObject({ recorded: 2, dropped: 2, pending: 0, coalescing: 0 });
    });

  it('caps open sessions: one more emits the oldest early', () => {
    const { sheet, exporter } = setup({ maxSessions: 2 });
    sheet.record(save(1, 'a'));
    sheet.record(save(1, 'b'));
    sheet.record(save(1, 'c'));
    expect(exporter.records.map((r) => JSON.parse(r.attributes[A.targets] as string)[0].id)).toEqual(['a']);
    expect(sheet.pending).toBe(2);
  });

  it('validates each occurrence as record() does', () => {
    const { sheet } = setup();
    expect(() => sheet.record({ action: 'Not Valid' })).toThrow(/action/);
  });

  it('rejects nonsensical windows', () => {
    const { audit } = setup();
    expect(() => audit.coalesce({ idleMs: 0 })).toThrow(/idleMs must be a number of milliseconds >= 1/);
    expect(() => audit.coalesce({ maxWindowMs: Number.NaN })).toThrow(/maxWindowMs must be a number/);
    // The timer gets min(idle, rest of the window): above 2^31 - 1 ms Node's setTimeout fires after 1 ms.
    expect(() => audit.coalesce({ idleMs: 2 ** 31, maxWindowMs: 2 ** 32 })).toThrow(
      /min\(idleMs, maxWindowMs\) must be .* to 2147483647/,
    );
    // A long (or no) window with a short idle time only ever arms the idle timer.
    expect(() => audit.coalesce({ maxWindowMs: 2 ** 31 })).not.toThrow();
    expect(() => audit.coalesce({ maxWindowMs: Number.POSITIVE_INFINITY })).not.toThrow();
    expect(() => audit.coalesce({ maxSessions: 0.5 })).toThrow(/maxSessions must be a whole number >= 1/);
  });
});

describe('what a merged event carries', () => {
  it('keeps occurrences of different versions apart (the version is the schema of their metadata)', () => {
    const { sheet, exporter } = setup();
    for (const version of [1, 2, 3, 2]) sheet.record({ ...save(version), version });
    sheet.flush();
    const byVersion = exporter.records.map((r) => [r.attributes[A.version], r.attributes[A.count] ?? 1]);
    expect(byVersion).toEqual([
      [1, 1],
      [2, 2],
      [3, 1],
    ]);
    const v2 = exporter.records[1];
    expect(JSON.parse(v2?.body as string)).toEqual({ revision: 2 });
  });

  it('takes metadata, outcome reason, request context, names and fields all from the latest occurrence', () => {
    const { sheet, exporter } = setup();
    const occurrence = (n: number) => ({
      ...save(n),
      outcome: 'failure' as const,
      outcomeReason: `reason ${n}`,
      actor: { id: 'u-1', type: 'user', name: `Ada ${n}`, fields: { n } },
      targets: [{ type: 'sheet', id: 'sheet-1', name: `Sheet ${n}` }],
      context: { requestId: `req-${n}`, ip: `10.0.0.${n}`, userAgent: `agent ${n}` },
    });
    const first = sheet.record(occurrence(1));
    vi.advanceTimersByTime(1_000);
    sheet.record(occurrence(2));
    vi.advanceTimersByTime(1_000);
    sheet.record(occurrence(3));
    sheet.flush();
    expect(exporter.records).toHaveLength(1);
    const a = exporter.records[0]?.attributes ?? {};
    expect(a[A.eventId]).toBe(first.id);
    expect(a[A.count]).toBe(3);
    expect(JSON.parse(exporter.records[0]?.body as string)).toEqual({ revision: 3 });
    expect([a[A.outcomeReason], a[A.contextRequestId], a[A.contextIp], a[A.contextUserAgent]]).toEqual([
      'reason 3',
      'req-3',
      '10.0.0.3',
      'agent 3',
    ]);
    expect([a[A.actorName], a[A.actorFields]]).toEqual(['Ada 3', '{"n":3}']);
    expect(JSON.parse(a[A.targets] as string)).toEqual([{ type: 'sheet', id: 'sheet-1', name: 'Sheet 3' }]);
    expect(JSON.parse(a[A.changes] as string)).toEqual({ before: { rev: 0 }, after: { rev: 3 } });
  });

  it('does not count an occurrence recorded again under the same id (a retry)', () => {
    const { sheet, exporter } = setup();
    const id = '01a20cc3-6a35-7f85-b995-14cc5fd28800';
    const first = sheet.record({ ...save(1), id });
    expect(sheet.record({ ...save(1), id }).id).toBe(id);
    sheet.record(save(2));
    // The id record() returned for the session, passed back by a retry.
    sheet.record({ ...save(2), id: first.id });
    const generated = setup();
    const opened = generated.sheet.record(save(1));
    generated.sheet.record({ ...save(1), id: opened.id });
    sheet.flush();
    generated.sheet.flush();
    expect(exporter.records.map((r) => r.attributes[A.count])).toEqual([2]);
    expect(generated.exporter.records.map((r) => r.attributes[A.count] ?? 1)).toEqual([1]);
  });

  it(`remembers the last ${SESSION_IDS_KEPT} given ids of a session (an endless session cannot grow without bound)`, () => {
    const { sheet, exporter } = setup({ maxWindowMs: Number.POSITIVE_INFINITY });
    const first = sheet.record(save(0));
    const given = Array.from({ length: SESSION_IDS_KEPT + 1 }, () => randomUUID());
    for (const [n, id] of given.entries()) sheet.record({ ...save(n + 1), id });
    // Retries of the newest given id and of the session's own id: the same occurrences, not counted.
    sheet.record({ ...save(1), id: given.at(-1) as string });
    sheet.record({ ...save(1), id: first.id });
    // The oldest given id is no longer remembered: recorded again, it counts as one more occurrence.
    sheet.record({ ...save(1), id: given[0] as string });
    sheet.flush();
    expect(exporter.records.map((r) => r.attributes[A.count])).toEqual([SESSION_IDS_KEPT + 3]);
  });

  it('keeps the earliest and the latest time of occurrences recorded out of order', () => {
    const { sheet, exporter } = setup();
    const at = (iso: string) => ({ ...save(1), occurredAt: iso });
    sheet.record(at('2026-05-01T08:59:10Z'));
    sheet.record(at('2026-05-01T08:59:05Z'));
    sheet.record(at('2026-05-01T08:59:07Z'));
    sheet.flush();
    const [record] = exporter.records;
    expect(record?.hrTime[0]).toBe(Date.parse('2026-05-01T08:59:05Z') / 1000);
    expect(record?.attributes[A.lastOccurredAt]).toBe('2026-05-01T08:59:10.000Z');
    expect(record?.attributes[A.count]).toBe(3);
  });
});

describe('coalescing within maxEventBytes', () => {
  /** The record's size as the receiver measures it: body and every attribute key and value. */
  const sizeOf = (r: { body?: unknown; attributes: Record<string, unknown> }) =>
    Object.entries(r.attributes).reduce(
      (n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(String(v)),
      Buffer.byteLength(String(r.body)),
    );

  it('a merge over the limit (first before + latest after) is not made: both occurrences are emitted, each within it', () => {
    const { provider, exporter } = memoryProvider();
    const maxEventBytes = 100_000;
    const audit = createAuditLogger({
      loggerProvider: provider,
      tenant: 'acme',
      maxEventBytes,
      flushOnExit: false,
    });
    const rec = audit.coalesce({ idleMs: 1_000 });
    const big = 'x'.repeat(60_000);
    const change = (before: string, after: string) => ({
      action: 'doc.sheet.updated',
      targets: [{ type: 'sheet', id: 's1' }],
      changes: { before, after },
    });
    const first = rec.record(change(big, 'a'));
    const second = rec.record(change('a', big));
    expect(second.id).not.toBe(first.id);
    const third = rec.record(change(big, 'b')); // merges with the second: second.before 'a' + third.after 'b'
    expect(third.id).toBe(second.id);
    rec.flush();
    expect(exporter.records.map((r) => r.attributes[A.eventId])).toEqual([first.id, second.id]);
    for (const r of exporter.records) expect(sizeOf(r)).toBeLessThanOrEqual(maxEventBytes);
    expect(exporter.records[1]?.attributes[A.count]).toBe(2);
    expect(JSON.parse(String(exporter.records[1]?.attributes[A.changes]))).toEqual({
      before: 'a',
      after: 'b',
    });
    expect(audit.stats()).toMatchObject({ recorded: 2, invalid: 0 });
  });
});
