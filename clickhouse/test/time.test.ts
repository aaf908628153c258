import { describe, expect, it } from 'vitest';
import { parseIsoTime } from '../src/query/time.js';

describe('parseIsoTime', () => {
  it.each([
    ['2026-11-23', '2026-11-23T00:00:00.000Z'],
    ['2026-11-23T10:15:00Z', '2026-11-23T10:15:00.000Z'],
    ['2026-11-23T10:15Z', '2026-11-23T10:15:00.000Z'],
    ['2026-11-23t10:15:00.123z', '2026-11-23T10:15:00.123Z'],
    ['2026-11-23 10:15:00+01:00', '2026-11-23T09:15:00.000Z'],
    ['2026-11-23T10:15:00.123456-0230', '2026-11-23T12:45:00.123Z'],
    ['2024-02-29', '2024-02-29T00:00:00.000Z'],
  ])('accepts %s', (text, iso) => {
    expect(parseIsoTime(text)?.toISOString()).toBe(iso);
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
  ])('rejects %j', (text) => {
    expect(parseIsoTime(text)).toBeUndefined();
  });
});
