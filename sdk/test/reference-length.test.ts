// Tenant, action, actor and target type and id are what reads filter on; reads refuse a filter value longer than
// MAX_REFERENCE_LENGTH, so a longer one would be stored and never found: record() refuses it.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { MAX_REFERENCE_LENGTH } from '../src/conventions.js';
import {
  AuditOptionError,
  AuditValidationError,
  createAuditLogger,
  defineAuditActions,
  parseAuditEvent,
} from '../src/index.js';
import { memoryProvider } from './support.js';

const at = (n: number) => 'x'.repeat(n);
const event = (over: Record<string, unknown>) => ({
  action: 'billing.invoice.paid',
  tenant: 'acme',
  actor: { id: 'u-1', type: 'user' },
  targets: [{ type: 'invoice', id: 'inv-1' }],
  ...over,
});

function issuesOf(input: unknown, options = {}): { path: string; message: string }[] {
  try {
    parseAuditEvent(input, options);
  } catch (error) {
    expect(error).toBeInstanceOf(AuditValidationError);
    return (error as AuditValidationError).issues.map((i) => ({
      path: i.path.join('.'),
      message: i.message,
    }));
  }
  return [];
}

const cases: [string, (value: string) => Record<string, unknown>][] = [
  ['tenant', (v) => event({ tenant: v })],
  ['actor.id', (v) => event({ actor: { id: v, type: 'user' } })],
  ['actor.type', (v) => event({ actor: { id: 'u-1', type: v } })],
  [
    'targets.1.type',
    (v) =>
      event({
        targets: [
          { type: 'a', id: 'b' },
          { type: v, id: 'inv-1' },
        ],
      }),
  ],
  ['targets.0.id', (v) => event({ targets: [{ type: 'invoice', id: v }] })],
  ['action', (v) => event({ action: `a.${v.slice(2)}` })],
];

describe('MAX_REFERENCE_LENGTH', () => {
  it('is the 4096 UTF-16 code units reads accept', () => {
    expect(MAX_REFERENCE_LENGTH).toBe(4096);
  });

  for (const [path, make] of cases) {
    it(`${path}: accepts ${MAX_REFERENCE_LENGTH} characters, refuses one more with an issue naming the limit`, () => {
      expect(issuesOf(make(at(MAX_REFERENCE_LENGTH)))).toEqual([]);
      const issues = issuesOf(make(at(MAX_REFERENCE_LENGTH + 1)));
      expect(issues).toHaveLength(1);
      expect(issues[0]?.path).toBe(path);
      expect(issues[0]?.message).toContain(`at most ${MAX_REFERENCE_LENGTH} characters`);
      // Code units, as reads count: 2049 emoji are 4098 units.
      if (path !== 'action') expect(issuesOf(make('😀'.repeat(2049)))[0]?.path).toBe(path);
    });
  }

  it('counts after trimming, as the value is stored', () => {
    expect(issuesOf(event({ tenant: ` ${at(MAX_REFERENCE_LENGTH)} ` }))).toEqual([]);
    expect(parseAuditEvent(event({ tenant: ` ${at(MAX_REFERENCE_LENGTH)} ` })).tenant).toHaveLength(4096);
  });

  it("checks record()'s event and the logger's default tenant", () => {
    const { provider, exporter } = memoryProvider();
    const audit = createAuditLogger({ loggerProvider: provider, tenant: 'acme', flushOnExit: false });
    expect(() => audit.record(event({ actor: { id: at(5000), type: 'user' } }))).toThrow(
      /actor\.id: must be at most 4096 characters/,
    );
    expect(exporter.records).toHaveLength(0);
    expect(() =>
      createAuditLogger({
        loggerProvider: provider,
        tenant: at(MAX_REFERENCE_LENGTH + 1),
        flushOnExit: false,
      }),
    ).toThrow(AuditOptionError);
    expect(issuesOf({ action: 'a.b.c' }, { defaultTenant: at(MAX_REFERENCE_LENGTH + 1) })).toEqual([
      { path: 'tenant', message: expect.stringContaining('at most 4096 characters') },
    ]);
  });

  it('refuses a longer action name in defineAuditActions', () => {
    expect(() => defineAuditActions({ [`a.${at(MAX_REFERENCE_LENGTH)}`]: z.unknown() })).toThrow(
      /at most 4096 characters/,
    );
  });
});
