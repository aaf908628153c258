import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
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
    expect(() => audit.coalesce({ idleMs: 0 })).toThrow(/idleMs must be > 0/);
  });
});
