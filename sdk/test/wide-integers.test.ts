// Integers beyond the 64-bit range (1e20, 2 ** 64): JavaScript prints them as plain decimals, which ClickHouse's
// JSON functions refuse (the store then marks the whole attribute malformed). Every JSON text the SDK emits
// writes them in exponent form, which reads back as the same double.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AUDIT_ATTRIBUTES as A, createAuditLogger } from '../src/index.js';
import { serializeJson } from '../src/json.js';
import { memoryProvider } from './support.js';

const wide = { big: 1e20, two64: 2 ** 64, negative: -1e19, min: -(2 ** 63), nested: [{ x: 2 ** 63 }] };
const wideText =
  '{"big":1e+20,"two64":1.8446744073709552e+19,"negative":-1e+19,"min":-9.223372036854776e+18,' +
  '"nested":[{"x":9.223372036854776e+18}]}';
/** A plain-decimal integer literal of 19 digits or more outside a string: what ClickHouse refuses. */
const PLAIN_WIDE = /(^|[^"\w.+-])-?\d{19,}/;

describe('integers beyond the 64-bit range', () => {
  it('serializes them in exponent form, the same doubles when parsed', () => {
    const issues: never[] = [];
    const out = serializeJson(wide, ['metadata'], issues);
    expect(issues).toEqual([]);
    expect(out.json).toBe(wideText);
    expect(JSON.parse(out.json)).toEqual(wide);
    expect(serializeJson(1e20, [], issues).json).toBe('1e+20');
    // The largest double under 2^63 fits an Int64: plain, as before; other numbers are untouched.
    const plain = { edge: 2 ** 63 - 1024, small: 1.5, neg: -(2 ** 53), tiny: 1e-7 };
    expect(serializeJson(plain, [], issues).json).toBe(JSON.stringify(plain));
    // The normalising path (a Date forces it) does the same.
    const mixed = serializeJson({ at: new Date(0), big: 1e20 }, [], issues);
    expect(mixed.json).toBe('{"at":"1970-01-01T00:00:00.000Z","big":1e+20}');
    // A string of digits stays a string.
    expect(serializeJson({ s: '100000000000000000000' }, [], issues).json).toBe(
      '{"s":"100000000000000000000"}',
    );
  });

  it('emits no plain-decimal wide integer in the body or any attribute', () => {
    const { provider, exporter } = memoryProvider();
    const audit = createAuditLogger({ loggerProvider: provider, tenant: 'acme', flushOnExit: false });
    const event = audit.record({
      action: 'ledger.balance.updated',
      actor: { id: 'u-1', type: 'user', fields: { quota: 2 ** 64 } },
      targets: [
        { type: 'account', id: 'a-1', fields: { balance: 1e20 } },
        { type: 'ledger', id: 'l-1' },
      ],
      metadata: wide,
      changes: { before: { balance: -1e19 }, after: { balance: 1e20 } },
    });
    const record = exporter.records[0];
    const texts = [
      record?.body,
      record?.attributes[A.actorFields],
      record?.attributes[A.targets],
      record?.attributes[A.changes],
    ] as string[];
    for (const text of texts) {
      expect(typeof text).toBe('string');
      expect(text).not.toMatch(PLAIN_WIDE);
    }
    expect(texts[0]).toBe(wideText);
    expect(texts[1]).toBe('{"quota":1.8446744073709552e+19}');
    expect(texts[3]).toBe('{"before":{"balance":-1e+19},"after":{"balance":1e+20}}');
    // What a reader parses back is the event record() returned.
    expect(JSON.parse(texts[0] as string)).toEqual(event.metadata);
    expect(JSON.parse(texts[1] as string)).toEqual(event.actor.fields);
    expect(JSON.parse(texts[2] as string)).toEqual(event.targets);
    expect(JSON.parse(texts[3] as string)).toEqual(event.changes);
  });

  describe('merged by coalescing', () => {
    beforeEach(() => {
      vi.useFakeTimers({ now: new Date('2026-05-01T09:00:00Z') });
    });
    afterEach(() => {
      vi.useRealTimers();
    });

    it('writes the merged changes in exponent form too', () => {
      const { provider, exporter } = memoryProvider();
      const audit = createAuditLogger({ loggerProvider: provider, tenant: 'acme', flushOnExit: false });
      const sheet = audit.coalesce({ idleMs: 1_000, maxWindowMs: 60_000 });
      const save = (before: number, after: number) => ({
        action: 'docs.sheet.saved',
        targets: [{ type: 'sheet', id: 's-1' }],
        occurredAt: new Date(Date.now()),
        changes: { before: { n: before }, after: { n: after } },
      });
      sheet.record(save(1e20, 1));
      vi.advanceTimersByTime(100);
      sheet.record(save(2, 2 ** 64));
      vi.advanceTimersByTime(1_000);
      expect(exporter.records).toHaveLength(1);
      expect(exporter.records[0]?.attributes[A.count]).toBe(2);
      expect(exporter.records[0]?.attributes[A.changes]).toBe(
        '{"before":{"n":1e+20},"after":{"n":1.8446744073709552e+19}}',
      );
    });
  });
});
