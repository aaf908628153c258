import { describe, expect, it } from 'vitest';
import { StoredEventParseError, utcMillis } from '../src/query/rows.js';
import { parseIsoTime } from '../src/query/time.js';

describe('parseIsoTime', () => {
  it.each([
    ['2026-11-23', '2026-11-23T00:00:00.000Z'],
    ['2026-11-23T10:15:00Z', '2026-11-23T10:15:00.000Z'],
    ['2026-11-23T10:15Z', '2026-11-23T10:15:00.000Z'],
    ['2026-11-23t10:15:00.123z', '2026-11-23T10:15:00.123Z'],
    ['2026-11-23 10:15:00+01:00', '2026-11-23T09:15:00.000Z'],
    // Past the millisecond: dropped by default, as Date does (see the ceil cases below).
    ['2026-11-23T10:15:00.123456-0230', '2026-11-23T12:45:00.123Z'],
    ['2026-11-23T12:00:00.0009Z', '2026-11-23T12:00:00.000Z'],
    ['2026-11-23T12:00:00.999000001Z', '2026-11-23T12:00:00.999Z'],
    ['2026-11-23T12:00:00.123000Z', '2026-11-23T12:00:00.123Z'],
    ['2026-11-23T12:00:00.5Z', '2026-11-23T12:00:00.500Z'],
    ['2026-11-23T12:00:00.05Z', '2026-11-23T12:00:00.050Z'],
    ['2024-02-29', '2024-02-29T00:00:00.000Z'],
    ['0050-01-01', '0050-01-01T00:00:00.000Z'],
    ['0000-02-29', '0000-02-29T00:00:00.000Z'],
    ['0050-01-01T00:00:00Z', '0050-01-01T00:00:00.000Z'],
  ])('accepts %s', (text, iso) => {
    expect(parseIsoTime(text)?.toISOString()).toBe(iso);
  });

  it.each([
    // An exclusive upper bound widens to the whole millisecond (stored times are truncated to it).
    ['2026-11-23T10:15:00.123456-0230', '2026-11-23T12:45:00.124Z'],
    ['2026-11-23T12:00:00.0009Z', '2026-11-23T12:00:00.001Z'],
    ['2026-11-23T12:00:00.999000001Z', '2026-11-23T12:00:01.000Z'],
    ['2026-11-23T12:00:00.123000Z', '2026-11-23T12:00:00.123Z'],
    ['2026-11-23T12:00:00.5Z', '2026-11-23T12:00:00.500Z'],
  ])('ceil: %s', (text, iso) => {
    expect(parseIsoTime(text, 'ceil')?.toISOString()).toBe(iso);
  });

  it.each([
    '12',
    '',
    'yesterday',
    '2026-11-23T10:15:00', // no zone: ambiguous
    '2026-02-30',
    '2025-02-29',
    '2026-13-01',
    '2026-11-23T24:00:00Z',
    '2026-11-23T10:60:00Z',
    '2026/11/23',
    'Mon, 23 Nov 2026 10:15:00 GMT',
    '1732300000000',
    ' 2026-11-23',
    '2026-11-23T12:00:00.1234567890Z', // 10 fraction digits
    '2026-11-23T12:00:00.Z',
  ])('rejects %j', (text) => {
    expect(parseIsoTime(text)).toBeUndefined();
  });
});

describe('utcMillis (times read back from ClickHouse)', () => {
  it.each([
    ['2026-10-28 21:04:18.163', Date.UTC(2026, 9, 28, 21, 4, 18, 163)],
    ['1970-01-01 00:00:00.001', 1],
    ['1969-12-31 23:59:59.999', -1],
    ['2299-12-31 23:59:59.999', Date.UTC(2299, 11, 31, 23, 59, 59, 999)],
  ])('%s', (text, ms) => {
    expect(utcMillis(text, 'e1', 'occurred_at')).toBe(ms);
  });

  it.each([
    '2026-10-28T21:04:18.163Z',
    '2026-10-28 21:04:18',
    '1761685458.163',
    '2026-13-28 21:04:18.163',
    '',
  ])('names the event and column for %j', (text) => {
    expect(() => utcMillis(text, 'e1', 'received_at')).toThrow(StoredEventParseError);
    expect(() => utcMillis(text, 'e1', 'received_at')).toThrow(/e1.*received_at/);
  });
});
