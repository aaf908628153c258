// A caller's event id is a UUID in either case, stored lowercased (ClickHouse's UUID column prints lowercase).
import { describe, expect, it } from 'vitest';
import {
  AUDIT_ATTRIBUTES as A,
  AuditValidationError,
  createAuditLogger,
  parseAuditEvent,
} from '../src/index.js';
import { fastParseInput } from '../src/input.js';
import { memoryProvider } from './support.js';

const MAX = 'ffffffff-ffff-ffff-ffff-ffffffffffff';

describe('event id', () => {
  it('accepts the max UUID in uppercase and mixed case, lowercased like other UUIDs', () => {
    for (const id of [MAX, MAX.toUpperCase(), `F${MAX.slice(1)}`, '0192F2D4-5B6C-7D8E-9F00-112233445566']) {
      const input = { action: 'a.b.c', tenant: 'acme', id, occurredAt: new Date(1e12) };
      expect(parseAuditEvent(input).id).toBe(id.toLowerCase());
      // The fast path and zod agree: both accept it as it is.
      expect(fastParseInput(input)).toBe(input);
    }
    const { provider, exporter } = memoryProvider();
    const audit = createAuditLogger({ loggerProvider: provider, tenant: 'acme', flushOnExit: false });
    expect(audit.record({ action: 'a.b.c', id: MAX.toUpperCase() }).id).toBe(MAX);
    expect(exporter.records[0]?.attributes[A.eventId]).toBe(MAX);
  });

  it('still refuses what is no UUID, at id', () => {
    for (const id of ['GFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF', `${MAX}0`, '', 42]) {
      let thrown: unknown;
      try {
        parseAuditEvent({ action: 'a.b.c', tenant: 'acme', id });
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(AuditValidationError);
      expect((thrown as AuditValidationError).issues.map((i) => i.path)).toEqual([['id']]);
    }
    expect(() => parseAuditEvent({ action: 'a.b.c', tenant: 'acme', id: `${MAX}0` })).toThrow(/Invalid UUID/);
  });
});
