// occurredAt as text takes the ISO 8601 / RFC 3339 forms the query API's time parser takes: minutes without
// seconds, a lowercase t and z; always with a zone (a time without one is ambiguous).
import { describe, expect, it } from 'vitest';
import { AuditValidationError, createAuditLogger, parseAuditEvent } from '../src/index.js';
import { fastParseInput } from '../src/input.js';
import { memoryProvider } from './support.js';

const at = (occurredAt: string) => ({ action: 'a.b.c', tenant: 'acme', occurredAt });

describe('occurredAt text', () => {
  it('accepts minutes without seconds and a lowercase t or z, normalised to the instant', () => {
    const cases: [string, string][] = [
      ['2026-11-24T12:00Z', '2026-11-24T12:00:00.000Z'],
      ['2026-11-24t12:00:00z', '2026-11-24T12:00:00.000Z'],
      ['2026-11-24t12:00z', '2026-11-24T12:00:00.000Z'],
      ['2026-11-24T12:00+01:00', '2026-11-24T11:00:00.000Z'],
      ['2026-11-24t12:00:00.250-02:30', '2026-11-24T14:30:00.250Z'],
    ];
    for (const [text, iso] of cases) {
      expect(parseAuditEvent(at(text)).occurredAt.toISOString(), text).toBe(iso);
      expect(fastParseInput(at(text)), text).toEqual(at(text));
    }
    const { provider, exporter } = memoryProvider();
    const audit = createAuditLogger({ loggerProvider: provider, tenant: 'acme', flushOnExit: false });
    audit.record(at('2026-11-24t12:00z'));
    expect(exporter.records[0]?.hrTime).toEqual([Date.parse('2026-11-24T12:00:00Z') / 1000, 0]);
  });

  it('still refuses a time without a zone, without minutes, or with a field out of range', () => {
    for (const text of [
      '2026-11-24T12:00',
      '2026-11-24t12:00:00',
      '2026-11-24T12Z',
      '2026-11-24T24:00Z',
      '2026-11-24T12:60Z',
      '2026-11-24x12:00Z',
      '2026-11-24T12:00Zz',
    ]) {
      let thrown: unknown;
      try {
        parseAuditEvent(at(text));
      } catch (error) {
        thrown = error;
      }
      expect(thrown, text).toBeInstanceOf(AuditValidationError);
      expect(
        (thrown as AuditValidationError).issues.map((i) => i.path.join('.')),
        text,
      ).toEqual(['occurredAt']);
      expect(fastParseInput(at(text)), text).toBeUndefined();
    }
  });
});
